import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium driven by playwright-core: no browser download. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    // Without the background-networking switches chromium keeps calling out, and this network is closed.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Words the page breaks across lines: a word whose text has more than one
 * line box. Code, inputs and URLs (class url) are left out: they break where
 * they must.
 */
export async function brokenWords(page: import('playwright-core').Page): Promise<string[]> {
  return page.evaluate(() => {
    const broken: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement!;
      if (parent.closest('pre, code, script, style, .url, option, select, textarea')) continue;
      const text = node.textContent ?? '';
      for (const match of text.matchAll(/\S+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index!);
        range.setEnd(node, match.index! + match[0].length);
        const lines = new Set(Array.from(range.getClientRects()).filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(match[0]);
      }
    }
    if (document.documentElement.scrollWidth > window.innerWidth) broken.push(`(the page is ${document.documentElement.scrollWidth} px wide)`);
    return broken;
  });
}
