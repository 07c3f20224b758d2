/**
 * Help text of every command (printed by `--help`; tests assert each command has one). `{name}`
 * placeholders are replaced with the values the command will use and where they come from (./where.ts).
 */
export const HELP: Record<string, string> = {
  main: `accrue — push-based Prometheus metrics gateway (SQS → store → /metrics)

Usage: accrue <command> [options]

Commands:
  start      run the local gateway (same as npm start)
  send       send events or envelopes from a file or stdin to the queue
  validate   check events or envelopes against the envelope schema and the profile
  groups     list groups on the gateway (filter like the status page), or delete one
  top        live view of what is arriving (rates, rejections, newest groups)
  tables     create (or check) the DynamoDB tables of the cloud store

Run \`accrue <command> --help\` for a command's options.
The local gateway is found through flags, env, or .accrue/local.json (written by \`npm start\`). Now:
  gateway  {url}
  queue    {queue}
`,
  start: `Usage: accrue start [-- <args for service/local.ts>]

Runs the local gateway in this process tree: embedded SQS endpoint, ingest runner, memory store and the
service. Same as \`npm start\`; stop it with Ctrl-C. It will use:
  service (status page, /metrics, push)  {listen}
  SQS endpoint                           {sqs}
  data                                   {data}
A port already in use stops it with the variable to change.
`,
  send: `Usage: accrue send [file ...] [options]      (no file or "-" reads stdin)

Input: an envelope {"v":1,"group":{...},"events":[...]} (sent as is, its id kept), an event object,
an array of events, or NDJSON (one envelope or event per line). Bare events are sent through the
producer client in batches, with a missing "time" set to now. Everything is validated first; if any
problem is found nothing is sent.

Options:
  --queue-url URL     ingest queue (default: ACCRUE_QUEUE_URL, else .accrue/local.json)
                      now: {queue}
  --endpoint URL      SQS endpoint (default: ACCRUE_SQS_ENDPOINT, else .accrue/local.json)
                      now: {endpoint}
  --region REGION     AWS region (default: AWS_REGION or us-east-1); now: {region}
  --job NAME          group job for bare events (default: {job})
  --instance NAME     group instance for bare events
  --label NAME=VALUE  more group labels for bare events (repeatable)
  --profile NAME|PATH profile for validation (default: ACCRUE_PROFILE or aria); now: {profile}
  --dry-run           validate and print what would be sent, send nothing
  -h, --help          this help

Exit status: 0 sent, 1 invalid input or send failure, 2 usage error.
`,
  validate: `Usage: accrue validate [file ...] [options]  (no file or "-" reads stdin)

Checks envelopes or events (same input forms as \`accrue send\`) with the ingest decoder and the
envelope JSON Schema, and prints every problem with its path, e.g.
  events.json: events[3].latency_seconds: must be >= 0 (invalid)

Options:
  --profile NAME|PATH profile (default: ACCRUE_PROFILE or aria); now: {profile}
  --job NAME, --instance NAME, --label NAME=VALUE   group used to wrap bare events (job: {job})
  --json              print the problems as JSON
  -h, --help          this help

Exit status: 0 valid, 1 problems found, 2 usage error.
`,
  groups: `Usage: accrue groups [options]
       accrue groups delete job=NAME [LABEL=VALUE ...] [options]

Lists the groups the gateway holds (GET /api/v1/accrue/groups), failed and stale first, one line each;
or deletes exactly one group (DELETE /metrics/job/NAME/LABEL/VALUE…, values with "/" or empty are sent as
@base64). A delete of a group the gateway doesn't hold says so and exits 1.

Options:
  --url URL           gateway base URL (default: ACCRUE_URL, else .accrue/local.json)
                      now: {url}
  --auth SPEC         basic:USER:PASSWORD or bearer:TOKEN (default: ACCRUE_PUSH_AUTH); now: {auth}
  --filter EXPR       only matching groups, the status page's syntax: job="aria-pro" instance~"mt5"
                      (= equals, != differs, ~ contains, !~ doesn't contain, a bare word matches anything)
  --state STATE       all, failed, stale or ok (default all)
  --limit N           groups per page, 1 to 500 (default 50); --page N for the next ones
  --all               every matching group (all pages)
  --json              print the JSON (totals and groups)
  -h, --help          this help

Exit status: 0 ok, 1 request failed or no such group, 2 usage error.
`,
  top: `Usage: accrue top [options]

A live view of what is arriving: events accepted and rejected per second, dead-lettered messages,
pushes refused, group counts, and the most recently updated groups. Redraws in place on a terminal;
prints one plain line per interval when the output is not a terminal (a pipe, a file, CI).

Options:
  --url URL           gateway base URL (default: ACCRUE_URL, else .accrue/local.json)
                      now: {url}
  --auth SPEC         basic:USER:PASSWORD or bearer:TOKEN (default: ACCRUE_PUSH_AUTH); now: {auth}
  --interval SECONDS  time between updates (default 2)
  --count N           stop after N updates (default: until Ctrl-C)
  --limit N           groups shown (default 15)
  --filter EXPR       only groups matching, as in \`accrue groups --filter\`
  -h, --help          this help

Exit status: 0 ok, 1 gateway unreachable or refused, 2 usage error.
`,
  tables: `Usage: accrue tables create [options]
       accrue tables check [options]

create: creates the DynamoDB store's two tables (on-demand, TTL enabled) where the service and the
ingest Lambda will look for them; tables that exist are left as they are. check: says which exist.
The same environment as the service: AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB (or AWS_ENDPOINT_URL),
ACCRUE_SERIES_TABLE (default accrue-series), ACCRUE_LEDGER_TABLE (default accrue-ledger). A loopback
endpoint (DynamoDB Local) needs no AWS credentials. On AWS, \`npx cdk deploy\` creates them instead.

Options:
  --endpoint URL        DynamoDB endpoint (default: AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL, else AWS)
  --region REGION       AWS region (default: AWS_REGION or us-east-1)
  --series-table NAME   series table (default: ACCRUE_SERIES_TABLE or accrue-series)
  --ledger-table NAME   ledger table (default: ACCRUE_LEDGER_TABLE or accrue-ledger)
  -h, --help            this help

Exit status: 0 ok, 1 failure (check: a table is missing), 2 usage error.
`,
};
