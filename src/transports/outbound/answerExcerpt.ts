/**
 * The start of a receiver's answer as text, whatever it sent: decoded with the
 * charset its Content-Type names (UTF-8 when it names none or one we do not
 * know), an incomplete character at the cut dropped rather than mangled, and
 * characters that XML 1.0 cannot carry (the SOAP answer repeats the text)
 * replaced by U+FFFD.
 */
export function decodeExcerpt(bytes: Buffer, contentType: string | undefined): string {
  const charset = /charset\s*=\s*"?([\w.:-]+)"?/i.exec(contentType ?? '')?.[1];
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset ?? 'utf-8');
  } catch {
    decoder = new TextDecoder('utf-8');
  }
  // stream: true keeps a character cut at the end back instead of writing U+FFFD for it.
  return decoder.decode(bytes, { stream: true }).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}
