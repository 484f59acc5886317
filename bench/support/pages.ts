import type { SmtpSink } from '#libs/testing';

/** When each alert's first page reached the provider, from the emails as they arrive (a bundle lists several). */
export class PageClock {
  private readonly first = new Map<string, number>();
  private seen = 0;
  doubled = 0;

  /** `pattern` (global) finds an alert's key in a subject or body as group 1. */
  constructor(
    private readonly smtp: SmtpSink,
    private readonly pattern: RegExp,
  ) {}

  at(key: string): number | undefined {
    this.scan();
    return this.first.get(key);
  }

  /** Alerts with a page so far. */
  get size(): number {
    this.scan();
    return this.first.size;
  }

  private scan(): void {
    for (; this.seen < this.smtp.mails.length; this.seen++) {
      const mail = this.smtp.mails[this.seen]!;
      const keys = new Set([...`${mail.subject}\n${mail.text}`.matchAll(this.pattern)].map((m) => m[1]!));
      for (const key of keys) {
        if (this.first.has(key)) this.doubled++;
        else this.first.set(key, mail.receivedAt);
      }
    }
  }
}
