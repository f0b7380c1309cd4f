import express from 'express';
import { textNestsDeeperThan } from '../../domain/jsonDepth.js';

/** The error the app's error handler answers with status 400 and this message. */
export class TooDeeplyNested extends Error {
  readonly status = 400;
  readonly type = 'entity.too.deep';
}

/**
 * express.json with a bound on nesting, checked on the raw text before it is
 * parsed. `depthOf` says how deep a body may nest (an intake batch wraps its
 * events in one more level than a single event); `refusal` is the answer's message.
 */
export function boundedJson(options: {
  limit: number | string;
  strict?: boolean;
  depthOf: (body: string) => number;
  refusal: string;
}) {
  return express.json({
    limit: options.limit,
    strict: options.strict ?? true,
    verify: (_req, _res, raw) => {
      // latin1 keeps one character per byte: the brackets and quotes counted are ASCII.
      const body = raw.toString('latin1');
      if (textNestsDeeperThan(body, options.depthOf(body))) throw new TooDeeplyNested(options.refusal);
    },
  });
}

/** What a webservice call or an internal call's body may nest: a list of headers in a call is three levels. */
const callDepth = 8;
export const boundedCallJson = (limit: number | string) =>
  boundedJson({ limit, depthOf: () => callDepth, refusal: `the request is nested more than ${callDepth} levels deep; no call needs that` });
