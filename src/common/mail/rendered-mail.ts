/** A mail as the transport sends it, and as the development mailbox keeps it. */
export interface RenderedMail {
  to: string;
  subject: string;
  text: string;
}
