import type { MailRenderer } from '../../services/ports.js';
import { renderDeactivationMail } from './deactivationMail.js';
import { renderGivenUpMail } from './givenUpMail.js';
import { renderWarningMail } from './warningMail.js';

/** The system e-mails as the notification service asks for them. */
export const mailRenderer: MailRenderer = {
  deactivation: renderDeactivationMail,
  warning: renderWarningMail,
  givenUp: renderGivenUpMail,
};
