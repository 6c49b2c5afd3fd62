import { eventually, type FakeHandler, postJson } from './fake-server';

/**
 * An LLM server that accepts every forward (202) and holds it until the test releases it: `release()` calls the
 * oldest held job back, which frees its slot at the relay, and waits for the forward that slot brings (if `expectNext`).
 * `forwards` lists the job ids in the order they reached it.
 */
export class HoldingLlm {
  readonly forwards: string[] = [];
  private readonly held: { jobId: string; callbackUrl: string }[] = [];
  /** The most jobs of each group (by `groupOf`) it held at once. */
  readonly peaks = new Map<string, number>();
  /** The most jobs it held at once. */
  peak = 0;
  groupOf: (jobId: string) => string = () => 'all';

  readonly handler: FakeHandler = (request) => {
    if (request.method !== 'POST' || !request.json?.callback_url) return { status: 200 };
    this.forwards.push(request.json.job_id);
    this.held.push({ jobId: request.json.job_id, callbackUrl: request.json.callback_url });
    const group = this.groupOf(request.json.job_id);
    this.peaks.set(group, Math.max(this.peaks.get(group) ?? 0, this.holding(group)));
    this.peak = Math.max(this.peak, this.held.length);
    return { status: 202 };
  };

  /** Jobs held now, of one group or of all. */
  holding(group?: string): number {
    return group === undefined
      ? this.held.length
      : this.held.filter((entry) => this.groupOf(entry.jobId) === group).length;
  }

  /** Waits until it holds `count` jobs (the relay filled its free slots). */
  async waitHolding(count: number): Promise<void> {
    await eventually(() => this.held.length >= count, `the LLM holding ${count} jobs`);
  }

  /** Calls back the oldest held job, then waits for the one forward its freed slot lets through. */
  async release(expectNext = true): Promise<void> {
    const entry = this.held.shift();
    if (!entry) throw new Error('the LLM holds no job to release');
    const before = this.forwards.length;
    const answer = await postJson(entry.callbackUrl, { ok: true, result: { score: 1 } });
    if (answer.status !== 200) throw new Error(`the callback of ${entry.jobId} answered ${answer.status}`);
    if (expectNext) await eventually(() => this.forwards.length > before, `a forward after releasing ${entry.jobId}`);
  }
}
