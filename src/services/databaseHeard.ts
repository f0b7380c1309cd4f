import { isDatabaseAway } from '../storage/database.js';

/**
 * What a worker last heard from its database: whether the last statement that
 * ended was answered. While it was not (the server crashed, the cluster lost
 * its node), an attempt started now could not be recorded and would be sent
 * again once the database is back: received twice for nothing.
 */
export class DatabaseHeard {
  private away = false;

  get answering(): boolean {
    return !this.away;
  }

  /** Runs statements and notes whether the database answered them; their result or error passes through. */
  async from<T>(statements: () => Promise<T>): Promise<T> {
    try {
      const result = await statements();
      this.away = false;
      return result;
    } catch (error) {
      if (isDatabaseAway(error)) this.away = true;
      throw error;
    }
  }
}
