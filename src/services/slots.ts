/**
 * A worker's capacity, counted in attempts in flight (each holds one socket
 * and one payload, so the count bounds memory, not cores), with a share per
 * account: one account's endpoints can never take all of it, so another
 * account's webhook always finds a free slot.
 */
export class Slots {
  private used = 0;
  private readonly byAccount = new Map<number, number>();

  constructor(
    readonly capacity: number,
    readonly perAccount: number,
  ) {}

  get free(): number {
    return this.capacity - this.used;
  }

  /** Takes a slot for the account if the worker and the account's share have one; false otherwise. */
  take(accountId: number): boolean {
    const ofAccount = this.byAccount.get(accountId) ?? 0;
    if (this.used >= this.capacity || ofAccount >= this.perAccount) return false;
    this.used += 1;
    this.byAccount.set(accountId, ofAccount + 1);
    return true;
  }

  give(accountId: number): void {
    const ofAccount = this.byAccount.get(accountId) ?? 0;
    if (ofAccount <= 0) throw new Error(`slot accounting broken for account ${accountId}`);
    this.used -= 1;
    if (ofAccount === 1) this.byAccount.delete(accountId);
    else this.byAccount.set(accountId, ofAccount - 1);
  }

  /** Accounts whose share is used up: a claim skips their webhooks. */
  accountsAtLimit(): number[] {
    return [...this.byAccount].filter(([, count]) => count >= this.perAccount).map(([account]) => account);
  }
}
