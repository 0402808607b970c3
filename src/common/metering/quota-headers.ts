/** The operation's metered limit in the spec: `{apiVersion, endpoint}`. */
export const METERED_EXTENSION = 'x-metered';

export const QUOTA_HEADERS = {
  'X-Quota-Limit': { description: 'Calls the plan allows in the current quota window', schema: { type: 'integer' } },
  'X-Quota-Remaining': { description: 'Calls left in the current quota window', schema: { type: 'integer' } },
  'X-Quota-Reset': { description: 'Unix time (seconds) at which the quota window resets; absent when it never does', schema: { type: 'integer' } },
} as const;
