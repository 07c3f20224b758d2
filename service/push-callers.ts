/**
 * Who is pushing: the admin credential (ACCRUE_PUSH_AUTH: any group, the admin API) or one of the
 * producers of ACCRUE_PRODUCERS (only its own jobs, never the admin API). With neither configured,
 * pushes are open and the caller is `anonymous`. The caller is kept beside the request for the group
 * check, the admin check and the audit line.
 */
import type { FastifyRequest } from 'fastify';
import { type Producer, parseProducers } from '../shared/producers';
import { type AuthCheck, parseAuthSpec } from './auth';

export interface Caller {
  /** Credential name for the audit log (basic user, `bearer`, the producer's name, `anonymous`). */
  readonly name: string;
  /** Set for a producer: the jobs it may write. Unset: any group. */
  readonly producer?: Producer;
}

export class PushCallers {
  private readonly producers: { readonly producer: Producer; readonly check: AuthCheck }[];
  private readonly byRequest = new WeakMap<FastifyRequest, Caller>();

  constructor(
    private readonly admin: AuthCheck | undefined,
    producersSpec: string | undefined,
  ) {
    this.producers = (parseProducers(producersSpec) ?? [])
      .filter((p) => p.credential !== undefined)
      .map((producer) => ({
        producer,
        check: parseAuthSpec(producer.credential!, `ACCRUE_PRODUCERS (${producer.name}).credential`),
      }));
  }

  /** True when pushes need credentials. */
  get closed(): boolean {
    return this.admin !== undefined || this.producers.length > 0;
  }

  /** The challenge for a 401. */
  get challenge(): string {
    return this.admin?.challenge ?? this.producers[0]?.check.challenge ?? 'Basic realm="accrue"';
  }

  /** Identifies the caller from the Authorization header; undefined when credentials are needed and wrong. */
  identify(authorization: string | undefined): Caller | undefined {
    if (!this.closed) return { name: 'anonymous' };
    if (this.admin?.verify(authorization)) return { name: this.admin.name };
    for (const p of this.producers)
      if (p.check.verify(authorization)) return { name: p.producer.name, producer: p.producer };
    return undefined;
  }

  remember(req: FastifyRequest, caller: Caller): void {
    this.byRequest.set(req, caller);
  }

  of(req: FastifyRequest): Caller | undefined {
    return this.byRequest.get(req);
  }
}
