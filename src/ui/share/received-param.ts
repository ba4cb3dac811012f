/**
 * The query parameter of a "shared with you" link (`/?received=<shareId>`).
 * The same value as src/sharing/person-share.ts `RECEIVED_PARAM` (which
 * writes the links; received-param.test.ts keeps the two equal), kept here
 * so the signed-in view can read it without loading the person-share code
 * on the first screen (issue 19, app shell size).
 */
export const RECEIVED_PARAM = 'received';
