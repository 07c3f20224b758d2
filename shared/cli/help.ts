/** Help text of every command (printed by `--help`; tests assert each command has one). */
export const HELP: Record<string, string> = {
  main: `accrue — push-based Prometheus metrics gateway (SQS → store → /metrics)

Usage: accrue <command> [options]

Commands:
  start      run the local gateway (same as npm start)
  send       send events or envelopes from a file or stdin to the queue
  validate   check events or envelopes against the envelope schema and the profile
  groups     list groups on the gateway, or delete one

Run \`accrue <command> --help\` for a command's options.
The local gateway is found through .accrue/local.json (written by \`npm start\`), or flags / env.
`,
  start: `Usage: accrue start [-- <args for service/local.ts>]

Runs the local gateway in this process tree: embedded SQS endpoint, ingest runner, memory store and the
service on 127.0.0.1:9091. Same as \`npm start\`; stop it with Ctrl-C.
`,
  send: `Usage: accrue send [file ...] [options]      (no file or "-" reads stdin)

Input: an envelope {"v":1,"group":{...},"events":[...]} (sent as is, its id kept), an event object,
an array of events, or NDJSON (one envelope or event per line). Bare events are sent through the
producer client in batches, with a missing "time" set to now. Everything is validated first; if any
problem is found nothing is sent.

Options:
  --queue-url URL     ingest queue (default: ACCRUE_QUEUE_URL, else .accrue/local.json)
  --endpoint URL      SQS endpoint (default: ACCRUE_SQS_ENDPOINT, else .accrue/local.json)
  --region REGION     AWS region (default: AWS_REGION or us-east-1)
  --job NAME          group job for bare events (default: accrue-cli)
  --instance NAME     group instance for bare events
  --label NAME=VALUE  more group labels for bare events (repeatable)
  --profile NAME|PATH profile for validation (default: ACCRUE_PROFILE or aria)
  --dry-run           validate and print what would be sent, send nothing
  -h, --help          this help

Exit status: 0 sent, 1 invalid input or send failure, 2 usage error.
`,
  validate: `Usage: accrue validate [file ...] [options]  (no file or "-" reads stdin)

Checks envelopes or events (same input forms as \`accrue send\`) with the ingest decoder and the
envelope JSON Schema, and prints every problem with its path, e.g.
  events.json: events[3].latency_seconds: must be >= 0 (invalid)

Options:
  --profile NAME|PATH profile (default: ACCRUE_PROFILE or aria)
  --job NAME, --instance NAME, --label NAME=VALUE   group used to wrap bare events
  --json              print the problems as JSON
  -h, --help          this help

Exit status: 0 valid, 1 problems found, 2 usage error.
`,
  groups: `Usage: accrue groups [options]
       accrue groups delete job=NAME [LABEL=VALUE ...] [options]

Lists the groups the gateway holds (GET /api/v1/accrue/metrics), or deletes exactly one group
(DELETE /metrics/job/NAME/LABEL/VALUE…, values with "/" or empty are sent as @base64).

Options:
  --url URL           gateway base URL (default: ACCRUE_URL, else .accrue/local.json)
  --auth SPEC         basic:USER:PASSWORD or bearer:TOKEN (default: ACCRUE_PUSH_AUTH)
  --json              print the raw JSON (list)
  -h, --help          this help

Exit status: 0 ok, 1 request failed, 2 usage error.
`,
};
