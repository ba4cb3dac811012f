/**
 * Plain words for the failures of sharing with a person. Our own typed
 * errors carry fixed plain-language messages (no secrets, nothing taken
 * from a response), so they are shown as they are; everything else goes
 * through the app's one handleError.
 */
import { ApiError, PEOPLE_ERROR_CODES } from '../../contract/index.ts';
import { UntrustedSignerError } from '../../crypto/index.ts';
import { ContactChangedError, PersonNotFoundError, ShareWithdrawnError } from '../../sharing/person-share.ts';
import { handleError, type UserMessage } from '../base/handle-error.ts';

/** Returns what to tell the user about `error` from a person-share action. */
export function personShareMessage(error: unknown): UserMessage {
  if (error instanceof PersonNotFoundError || error instanceof ContactChangedError || error instanceof ShareWithdrawnError) {
    return { kind: 'not-found', title: error.message, action: '' };
  }
  if (error instanceof UntrustedSignerError) {
    return { kind: 'tampered', title: 'This file was not sealed with the key you pinned for its sender.', action: 'Do not trust it. Ask the sender by another channel whether their key changed.' };
  }
  if (error instanceof ApiError && error.code === PEOPLE_ERROR_CODES.alreadyShared) {
    return { kind: 'conflict', title: 'This file is already shared with this person.', action: '' };
  }
  if (error instanceof ApiError && error.code === PEOPLE_ERROR_CODES.noSuchPerson) {
    return { kind: 'not-found', title: 'Nobody with this address uses Sealdrop yet.', action: 'Check the spelling, or send a link instead.' };
  }
  return handleError(error);
}
