import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failures as the service writes them into Temporal history: the message and the stack trace move out of the
 * failure's plain fields into its `encoded_attributes` payload, which the payload codec then encrypts like any other
 * payload (the plain message reads "Encoded failure"). Salesforce's error text and our stack traces are thus as
 * unreadable in history as inputs and results; the Web UI and the CLI decode them through `/codec/decode`.
 *
 * Loaded by path (`failureConverterPath`): by the client and the worker's activities through the data converter,
 * and inside the workflow sandbox through the workflow bundle, which must be built with the same path. Decoding reads
 * both shapes: failures written before this converter (plain text) still load and replay.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
