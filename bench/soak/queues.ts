/** The soak's SQS side: queue depth, waiting for the queue to drain, reading the dead-letter queue. */
import { setTimeout as sleep } from 'node:timers/promises';
import { GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DLQ_ATTR_DETAIL, DLQ_ATTR_REASON, DLQ_ATTR_SOURCE } from '../../shared/aws/dead-letter';

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const a =
    (
      await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      )
    ).Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** True once the queue was empty (and nothing in flight) three checks in a row; false at the deadline. */
export async function waitDrained(
  sqs: SQSClient,
  queueUrl: string,
  inFlight: () => number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let quietChecks = 0;
  while (Date.now() < deadline) {
    const depth = await queueDepth(sqs, queueUrl);
    quietChecks = depth === 0 && inFlight() === 0 ? quietChecks + 1 : 0;
    if (quietChecks >= 3) return true;
    await sleep(250);
  }
  return false;
}

export interface DeadLetterMsg {
  reason: string;
  source: string;
  stage: string;
  /** The accrue-detail attribute (JSON, at most 4 KiB). */
  detail: string;
}

export async function drainDlq(sqs: SQSClient, dlqUrl: string): Promise<DeadLetterMsg[]> {
  const out: DeadLetterMsg[] = [];
  for (let empty = 0; empty < 2; ) {
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 600,
        MessageAttributeNames: ['All'],
      }),
    );
    if (!r.Messages?.length) {
      empty++;
      continue;
    }
    for (const m of r.Messages) {
      const a = m.MessageAttributes ?? {};
      let stage = '';
      try {
        stage = String(
          (JSON.parse(a[DLQ_ATTR_DETAIL]?.StringValue ?? '{}') as { stage?: unknown }).stage ?? '',
        );
      } catch {
        stage = '?';
      }
      out.push({
        reason: a[DLQ_ATTR_REASON]?.StringValue ?? '(redriven by the queue)',
        source: a[DLQ_ATTR_SOURCE]?.StringValue ?? m.MessageId ?? '',
        stage,
        detail: a[DLQ_ATTR_DETAIL]?.StringValue ?? '',
      });
    }
  }
  return out;
}
