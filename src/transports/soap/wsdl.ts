import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const wsdlPath = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../../../wsdl/webhooks.wsdl' : '../../../wsdl/webhooks.wsdl');

/** The WSDL file as shipped, with the service address taken from PUBLIC_URL. */
export function loadWsdl(publicUrl: string): string {
  const text = readFileSync(wsdlPath, 'utf8');
  const location = `${publicUrl}/soap`.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  return text.replace(/(<soap:address location=")[^"]*(")/, `$1${location}$2`);
}
