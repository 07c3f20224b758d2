/** A tiny builder for DynamoDB expressions: attribute names and values get placeholders. */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export class Expr {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, AttributeValue> = {};
  private next = 0;

  /** Placeholder for an attribute name (every name goes through here: DynamoDB reserves hundreds of words). */
  n(attr: string): string {
    const key = `#${attr.replace(/[^a-zA-Z0-9_]/g, '_')}`;
    this.names[key] = attr;
    return key;
  }

  /** Placeholder for a value. */
  v(value: AttributeValue): string {
    const key = `:v${this.next++}`;
    this.values[key] = value;
    return key;
  }

  /** The parts to spread into a request; omits empty maps (DynamoDB refuses them). */
  parts(): {
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, AttributeValue>;
  } {
    return {
      ...(Object.keys(this.names).length > 0 ? { ExpressionAttributeNames: this.names } : {}),
      ...(Object.keys(this.values).length > 0 ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}
