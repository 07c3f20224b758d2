#!/usr/bin/env python3
"""Accrue producer example in Python (boto3): sends ARIA PRO events as envelope v1 messages to SQS.

Each SQS message is one envelope: {"v": 1, "id": <uuid>, "group": {"job": ..., "instance": ...},
"events": [...]}, at most 256 KiB (SQS's limit), sent with SendMessageBatch (at most 10 entries and
256 KiB per call). Entries reported as Failed are re-sent with the SAME body (same "id"), so Accrue
counts them once even if SQS had stored them. See docs/client.md and schema/envelope-v1.schema.json.

    /usr/bin/python3 examples/python/producer.py --queue-url URL [--endpoint URL] [--count N]

Without --queue-url it reads .accrue/local.json (written by `npm start`).
"""
import argparse
import json
import math
import os
import random
import sys
import time
import uuid

import boto3
import botocore
import botocore.exceptions
import botocore.session

MAX_MESSAGE_BYTES = 262_144
MAX_BATCH_BYTES = 262_144
MAX_BATCH_ENTRIES = 10
SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY", "XAUUSD"]


def now_ms():
    return int(time.time() * 1000)


def execution(symbol, action, status, regime, latency_seconds, slippage_pips, volume=None):
    ev = {"kind": "execution", "time": now_ms(), "symbol": symbol, "action": action, "status": status,
          "regime": regime, "latency_seconds": latency_seconds, "slippage_pips": slippage_pips}
    if volume is not None:
        ev["volume"] = volume
    return ev


def error(error_type, symbol):
    return {"kind": "error", "time": now_ms(), "error_type": error_type, "symbol": symbol}


def pnl(kind, value):
    return {"kind": "pnl", "time": now_ms(), "type": kind, "value": value}


def performance(win_rate, drawdown_percent):
    return {"kind": "performance", "time": now_ms(), "win_rate": win_rate, "drawdown_percent": drawdown_percent}


def connection(connected):
    return {"kind": "connection", "time": now_ms(), "connected": connected}


def kill_switch(active):
    return {"kind": "kill_switch", "time": now_ms(), "active": active}


def check_finite(ev):
    """JSON can't carry NaN/Infinity; refuse them here rather than have Accrue reject the event."""
    for k, v in ev.items():
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"{ev['kind']}.{k}: must be finite, got {v}")


def pack_messages(events, group):
    """Splits events into envelope bodies of at most MAX_MESSAGE_BYTES (UTF-8 bytes, measured)."""
    group_json = json.dumps(group, separators=(",", ":"), ensure_ascii=False)
    bodies = []
    current = []
    size = 0
    overhead = len(f'{{"v":1,"id":"{"x" * 36}","group":{group_json},"events":[]}}'.encode())
    for ev in events:
        check_finite(ev)
        enc = json.dumps(ev, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        n = len(enc.encode())
        if overhead + n > MAX_MESSAGE_BYTES:
            raise ValueError(f"event of {n} bytes does not fit in one message")
        if current and overhead + size + 1 + n > MAX_MESSAGE_BYTES:
            bodies.append(current)
            current, size = [], 0
        size += n + (1 if current else 0)
        current.append(enc)
    if current:
        bodies.append(current)
    return [f'{{"v":1,"id":"{uuid.uuid4()}","group":{group_json},"events":[{",".join(evs)}]}}' for evs in bodies]


def send_all(sqs, queue_url, bodies, max_attempts=8):
    """SendMessageBatch in calls of <= 10 entries / 256 KiB; retries only the Failed entries, same bodies."""
    pending = list(bodies)
    attempt = 0
    sent = 0
    while pending:
        batch, size = [], 0
        while pending and len(batch) < MAX_BATCH_ENTRIES:
            n = len(pending[0].encode())
            if batch and size + n > MAX_BATCH_BYTES:
                break
            batch.append(pending.pop(0))
            size += n
        entries = [{"Id": f"m{i}", "MessageBody": b} for i, b in enumerate(batch)]
        try:
            res = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        except botocore.exceptions.ClientError as e:
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            code = e.response.get("Error", {}).get("Code", "")
            if status < 500 and "Throttl" not in code and code != "RequestThrottled":
                raise  # permanent: queue missing, access denied, invalid request
            failed, reason = batch, repr(e)
        except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError,
                botocore.exceptions.ReadTimeoutError) as e:  # network: retry the whole call
            failed, reason = batch, repr(e)
        else:
            by_id = {e["Id"]: b for e, b in zip(entries, batch)}
            permanent = [f for f in res.get("Failed", []) if f.get("SenderFault")]
            if permanent:
                raise RuntimeError(f"SQS refused entries: {permanent}")
            failed = [by_id[f["Id"]] for f in res.get("Failed", [])]
            sent += len(batch) - len(failed)
            reason = "partial failure"
        if failed:
            attempt += 1
            if attempt >= max_attempts:
                raise RuntimeError(f"gave up after {attempt} attempts ({reason}); {len(failed)} messages unsent")
            time.sleep(random.uniform(0, min(5.0, 0.1 * 2 ** attempt)))
            pending = failed + pending
    return sent


def demo_events(count):
    events = []
    price_drift = random.Random(7)
    for i in range(count):
        symbol = SYMBOLS[i % len(SYMBOLS)]
        r = i % 10
        if r < 7:
            events.append(execution(symbol, "BUY" if i % 2 else "SELL", "failed" if i % 23 == 0 else "success",
                                    "TRB"[i % 3], round(price_drift.lognormvariate(-4, 0.6), 6),
                                    round(abs(price_drift.gauss(0.3, 0.4)), 3), 1.0))
        elif r == 7:
            events.append(error("timeout", symbol))
        elif r == 8:
            events.append(pnl("real_time", round(price_drift.gauss(100, 50), 2)))
        else:
            events.append(performance(0.55, 3.2))
    events.append(connection(True))
    events.append(kill_switch(False))
    return events


def sqs_json_model_dir():
    """Older botocore (< 1.31, e.g. Debian 12's 1.29) speaks SQS's query protocol, which the local SQS
    emulator (fauxqs) does not; AWS SQS accepts the JSON protocol too. This writes botocore's own SQS
    model with the protocol switched to JSON (awsJson1_0, target prefix AmazonSQS) into a temporary data
    directory and returns it; None when botocore already uses JSON."""
    import gzip
    import tempfile
    loader = botocore.session.get_session().get_component("data_loader")
    model = loader.load_service_model("sqs", "service-2")
    if model["metadata"].get("protocol") != "query":
        return None
    model["metadata"].update({"protocol": "json", "jsonVersion": "1.0", "targetPrefix": "AmazonSQS"})
    model["metadata"].pop("xmlNamespace", None)
    for shape in model["shapes"].values():  # query/XML-only serialization hints
        shape.pop("flattened", None)
        shape.pop("resultWrapper", None)
        for m in shape.get("members", {}).values():
            m.pop("locationName", None)
            m.pop("flattened", None)
        if "member" in shape:
            shape["member"].pop("locationName", None)
        for k in ("key", "value"):
            if k in shape:
                shape[k].pop("locationName", None)
    for op in model["operations"].values():
        op.get("output", {}).pop("resultWrapper", None)
    api = model["metadata"]["apiVersion"]
    root = tempfile.mkdtemp(prefix="accrue-botocore-")
    os.makedirs(os.path.join(root, "sqs", api))
    with open(os.path.join(root, "sqs", api, "service-2.json"), "w") as f:
        json.dump(model, f)
    return root


def make_client(region, endpoint, protocol="auto"):
    session = botocore.session.get_session()
    json_dir = sqs_json_model_dir() if protocol == "auto" else None
    if json_dir:
        session.get_component("data_loader").search_paths.insert(0, json_dir)
    return boto3.Session(botocore_session=session).client(
        "sqs", region_name=region, endpoint_url=endpoint,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queue-url")
    ap.add_argument("--endpoint")
    ap.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    ap.add_argument("--job", default="aria-pro")
    ap.add_argument("--instance", default="python-example")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--sqs-protocol", choices=["auto", "query"], default="auto",
                    help="auto: use SQS's JSON protocol even on old botocore; query: botocore's default")
    args = ap.parse_args(argv)

    queue_url, endpoint = args.queue_url, args.endpoint
    if not queue_url:
        try:
            with open(".accrue/local.json") as f:
                local = json.load(f)
        except FileNotFoundError:
            sys.exit("no local gateway found at .accrue/local.json: run `npm start` first or pass --queue-url")
        queue_url, endpoint = local["queueUrl"], endpoint or local.get("sqsEndpoint")

    sqs = make_client(args.region, endpoint, args.sqs_protocol)
    events = demo_events(args.count)
    bodies = pack_messages(events, {"job": args.job, "instance": args.instance})
    sent = send_all(sqs, queue_url, bodies)
    print(json.dumps({"events": len(events), "messages": sent}))


if __name__ == "__main__":
    main()
