/** The names of the three ways to present a credential, as the spec's security schemes. */
export const SECURITY = { bearer: 'bearer', apiKey: 'apiKey', cookie: 'cookie' } as const;
