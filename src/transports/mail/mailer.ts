import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import type { Logger } from '../../logger.js';
import type { Mailer, OutgoingMail } from '../../services/ports.js';

/**
 * SMTP through nodemailer: it speaks STARTTLS, AUTH and multipart MIME as mail
 * servers expect. Every send has a hard deadline (an abort signal closes its
 * connection): nodemailer's own timeouts restart on every byte, and a server
 * that trickles its answers would otherwise hold a send for as long as it likes.
 */
export class SmtpMailer implements Mailer {
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

/** Without SMTP_URL: the e-mail stays stored in the database and is logged, not sent. */
export class LogMailer implements Mailer {
  constructor(private readonly log: Logger) {}

  async send(mail: OutgoingMail): Promise<void> {
    // Not the text: it carries reactivation links (secrets) and a receiver's answer (which may echo personal data).
    this.log.info({ to: mail.to, subject: mail.subject, messageId: mail.messageId }, 'notification e-mail stored, not sent (SMTP_URL is not set)');
  }

  readonly deadlineMs = 0;

  abort(): void {}
}
