/**
 * Creates (or reuses) the ingest queue and its dead-letter queue with a RedrivePolicy, as the CDK stack
 * does in the cloud. Used by `npm start`, the freshness bench and the integration tests.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface QueuePairOptions {
  readonly queueName: string;
  readonly dlqName: string;
  /** Seconds a received message stays invisible. */
  readonly visibilityTimeoutSeconds: number;
  /** Receives before the queue moves a message to the DLQ. */
  readonly maxReceiveCount: number;
  /** @default 1209600 (14 days, the maximum) */
  readonly retentionSeconds?: number;
}

export interface QueuePair {
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
}

export async function ensureQueuePair(client: SQSClient, o: QueuePairOptions): Promise<QueuePair> {
  const retention = String(o.retentionSeconds ?? 1_209_600);
  const dlq = await client.send(
    new CreateQueueCommand({ QueueName: o.dlqName, Attributes: { MessageRetentionPeriod: retention } }),
  );
  const dlqUrl = dlq.QueueUrl!;
  const attrs = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
  );
  const dlqArn = attrs.Attributes?.QueueArn;
  if (!dlqArn) throw new Error(`queue ${o.dlqName}: no QueueArn in GetQueueAttributes`);
  const q = await client.send(
    new CreateQueueCommand({
      QueueName: o.queueName,
      Attributes: {
        VisibilityTimeout: String(o.visibilityTimeoutSeconds),
        MessageRetentionPeriod: retention,
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: String(o.maxReceiveCount),
        }),
      },
    }),
  );
  return { queueUrl: q.QueueUrl!, dlqUrl, dlqArn };
}
