import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import type { Mailer, OutgoingMail } from '../../services/ports.js';

/**
 * SMTP through nodemailer: it speaks STARTTLS, AUTH and multipart MIME as mail
 * servers expect. Every send has a hard deadline (an abort signal closes its
 * connection): nodemailer's own timeouts restart on every byte, and a server
 * that trickles its answers would otherwise hold a send for as long as it likes.
 */
export class SmtpMailer implements Mailer {
  readonly sends = true;
  private readonly transport: Transporter;
  private readonly inFlight = new Set<AbortController>();

  constructor(smtpUrl: string, private readonly from: string, readonly deadlineMs = 60_000) {
    const url = new URL(smtpUrl);
    url.searchParams.set('connectionTimeout', String(Math.min(10_000, deadlineMs)));
    url.searchParams.set('greetingTimeout', String(Math.min(10_000, deadlineMs)));
    url.searchParams.set('socketTimeout', String(Math.min(30_000, deadlineMs)));
    this.transport = nodemailer.createTransport(url.toString());
  }

  async send(mail: OutgoingMail): Promise<void> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`the mail server did not take the e-mail within ${this.deadlineMs} ms`)), this.deadlineMs);
    this.inFlight.add(controller);
    try {
      const options = { from: this.from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, messageId: mail.messageId, signal: controller.signal };
      await this.transport.sendMail(options as SendMailOptions);
    } catch (error) {
      throw controller.signal.aborted ? new Error(String((controller.signal.reason as Error | undefined)?.message ?? 'sending aborted')) : error;
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
  }

  abort(): void {
    for (const controller of this.inFlight) controller.abort(new Error('sending aborted: the worker stops'));
  }
}

/** Without SMTP_URL: nothing is sent; the notification service keeps the e-mail in the database. */
export class NoMailServer implements Mailer {
  readonly sends = false;

  async send(): Promise<void> {}

  readonly deadlineMs = 0;

  abort(): void {}
}
