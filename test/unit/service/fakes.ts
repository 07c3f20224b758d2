/** Test doubles for the service unit tests: a small in-memory Store and a codec without merging. */

import type { Codec } from '../../../service/codec';
import { negotiate } from '../../../shared/expfmt/negotiate';
import { metricFamiliesToText } from '../../../shared/expfmt/text-create';
import { parseText } from '../../../shared/expfmt/text-parse';
import { FamilyConflictError, TransientError } from '../../../shared/model/errors';
import { labelsKey } from '../../../shared/model/identity';
import type { MetricFamily } from '../../../shared/model/types';
import type {
  ApplyResult,
  GroupInfo,
  GroupingKey,
  GroupState,
  PushRequest,
  PushResult,
  Store,
  StoreSnapshot,
} from '../../../shared/store/types';

interface G {
  key: GroupingKey;
  families: Map<string, MetricFamily>;
  lastPushMs?: number;
  lastPushFailureMs?: number;
  lastFailureReason?: string;
  lastUpdateMs: number;
}

/** Pushgateway semantics, family type checks, a call log and failure injection. */
export class FakeStore implements Store {
  groups = new Map<string, G>();
  gen = 0;
  failing = false;
  calls: string[] = [];
  snapshotDelayMs = 0;

  private check() {
    if (this.failing) throw new TransientError('fake store is down');
  }

  async apply(): Promise<ApplyResult[]> {
    return [];
  }

  async push(r: PushRequest): Promise<PushResult> {
    this.calls.push('push');
    this.check();
    const k = labelsKey(r.group);
    if (r.method === 'DELETE') {
      if (this.groups.delete(k)) this.gen++;
      return { status: 'applied' };
    }
    for (const f of r.families) {
      for (const g of this.groups.values()) {
        if (labelsKey(g.key) === k && r.method === 'PUT') continue;
        const other = g.families.get(f.name);
        if (other && other.type !== f.type)
          throw new FamilyConflictError(f.name, `type ${f.type} conflicts with ${other.type}`);
      }
    }
    const g: G = this.groups.get(k) ?? { key: r.group, families: new Map(), lastUpdateMs: r.pushTimeMs };
    if (r.method === 'PUT') g.families.clear();
    for (const f of r.families) g.families.set(f.name, f);
    g.lastPushMs = r.pushTimeMs;
    g.lastUpdateMs = r.pushTimeMs;
    this.groups.set(k, g);
    this.gen++;
    return { status: 'applied' };
  }

  async recordPushFailure(group: GroupingKey, timeMs: number, reason: string): Promise<void> {
    this.calls.push('recordPushFailure');
    const k = labelsKey(group);
    const g: G = this.groups.get(k) ?? { key: group, families: new Map(), lastUpdateMs: timeMs };
    g.lastPushFailureMs = timeMs;
    g.lastFailureReason = reason;
    this.groups.set(k, g);
    this.gen++;
  }

  /** Not used by the service (the SQS pipeline's): every claim is won and settling does nothing. */
  async claimDeadLetters(): Promise<{ state: 'claimed'; token: string }> {
    return { state: 'claimed', token: 't' };
  }

  async settleDeadLetters(): Promise<void> {}

  async deleteGroup(group: GroupingKey): Promise<void> {
    this.groups.delete(labelsKey(group));
    this.gen++;
  }

  async expire(): Promise<GroupingKey[]> {
    return [];
  }

  async snapshot(): Promise<StoreSnapshot> {
    this.calls.push('snapshot');
    if (this.snapshotDelayMs) await new Promise((r) => setTimeout(r, this.snapshotDelayMs));
    this.check();
    const groups: GroupState[] = [...this.groups.values()].map((g) => ({
      key: g.key,
      lastUpdateMs: g.lastUpdateMs,
      ...(g.lastPushMs !== undefined ? { lastPushMs: g.lastPushMs } : {}),
      ...(g.lastPushFailureMs !== undefined
        ? { lastPushFailureMs: g.lastPushFailureMs, lastFailureReason: g.lastFailureReason }
        : {}),
      families: [...g.families.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
    }));
    return { generation: String(this.gen), takenAtMs: Date.now(), groups };
  }

  async generation(): Promise<string> {
    this.calls.push('generation');
    this.check();
    return String(this.gen);
  }

  async listGroups(): Promise<GroupInfo[]> {
    return [];
  }

  async wipe(): Promise<void> {
    this.check();
    this.groups.clear();
    this.gen++;
  }

  async ping(): Promise<void> {
    this.check();
  }

  async close(): Promise<void> {}
}

/** Renders each group's families with the group's labels (no cross-group merging; enough for unit tests). */
export const fakeCodec: Codec = {
  parseText,
  parseTextYielding: async (body, limits) => parseText(body, { maxSeries: limits.maxSeries }),
  parseProtobufDelimited: () => {
    throw new Error('no protobuf in unit tests');
  },
  negotiate,
  render(snapshot, format, extra) {
    let out = '';
    for (const g of snapshot.groups) out += metricFamiliesToText(g.families, { constLabels: g.key });
    out += metricFamiliesToText(extra);
    return { body: format === 'openmetrics' ? `${out}# EOF\n` : out };
  },
  renderProtobuf: () => {
    throw new Error('no protobuf in unit tests');
  },
};
