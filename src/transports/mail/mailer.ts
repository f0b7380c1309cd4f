import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from '../../logger.js';
import type { RenderedMail } from './deactivationMail.js';

export interface OutgoingMail extends RenderedMail {
  to: string;
  /** The same on every try, so that mail systems can recognise a resend. */
  messageId: string;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/** SMTP through nodemailer: it speaks STARTTLS, AUTH and multipart MIME as mail servers expect. */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(smtpUrl: string, private readonly from: string) {
    const url = new URL(smtpUrl);
    // Timeouts well under a worker pass: a hanging SMTP server delays the e-mail, not the deliveries.
    url.searchParams.set('connectionTimeout', '10000');
    url.searchParams.set('greetingTimeout', '10000');
    url.searchParams.set('socketTimeout', '30000');
    this.transport = nodemailer.createTransport(url.toString());
  }

  async send(mail: OutgoingMail): Promise<void> {
    await this.transport.sendMail({ from: this.from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, messageId: mail.messageId });
  }

  close(): void {
    this.transport.close();
  }
}

/** Without SMTP_URL: the e-mail stays stored in the database and is logged, not sent. */
export class LogMailer implements Mailer {
  constructor(private readonly log: Logger) {}

  async send(mail: OutgoingMail): Promise<void> {
    this.log.info({ to: mail.to, subject: mail.subject, messageId: mail.messageId, text: mail.text }, 'notification e-mail (SMTP_URL not set: not sent)');
  }

  close(): void {}
}
