/** SQS client from the shared AWS configuration (endpoint overrides for emulators and LocalStack). */
import { SQSClient } from '@aws-sdk/client-sqs';
import type { AwsConfig } from '../config';

export function createSqsClient(aws: AwsConfig): SQSClient {
  return new SQSClient({
    region: aws.region,
    // An explicit endpoint also stops the SDK from sending requests to the host in the queue URL
    // (the emulator's `sqs.<region>.localhost`).
    ...(aws.sqsEndpoint ? { endpoint: aws.sqsEndpoint } : {}),
  });
}
