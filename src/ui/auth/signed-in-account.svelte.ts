/**
 * Who the server says is signed in (`GET /me`), once the account flow knows:
 * the header's sign-out needs the user id to forget this device's keys.
 */
export const signedInAccount = $state<{ userId: string | null }>({ userId: null });
