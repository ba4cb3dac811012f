import { describe, expect, it } from 'vitest';
import { ApiError, OfflineError } from '../../auth/api-client.ts';
import { handleError, messageFor } from '../base/handle-error.ts';
import { driveFile, FakeDriveServices, fileId } from './fake-drive-services.ts';
import { Listing } from './listing.svelte.ts';
import { DriveNotices } from './notices.svelte.ts';

function setUp(offered: ReadonlySet<string> = new Set()) {
  const services = new FakeDriveServices();
  const notices = new DriveNotices();
  const listing = new Listing(services, notices, (id) => offered.has(id));
  return { services, notices, listing };
}

describe('Listing', () => {
  it('loads the listing, and on failure keeps the old one with the problem in words', async () => {
    const { services, listing } = setUp();
    services.listing = [driveFile(fileId('1'), 'b.txt'), driveFile(fileId('2'), 'a.txt')];
    await listing.refresh();
    expect(listing).toMatchObject({ loaded: true, loading: false, listProblem: null });
    expect(listing.view.files.map((f) => f.name)).toEqual(['a.txt', 'b.txt']);

    services.listing = new OfflineError();
    await listing.refresh();
    expect(listing.listProblem).toEqual(messageFor('offline'));
    expect(listing.entries).toHaveLength(2);
  });

  it('offline on a first load, shows the device copy of the last listing and says so; the next good listing replaces it', async () => {
    const { services, listing } = setUp();
    const copy = [driveFile(fileId('1'), 'seen-before.txt')];
    let asked = 0;
    services.listOffline = () => {
      asked += 1;
      return Promise.resolve(copy);
    };
    services.listing = new OfflineError();
    await listing.refresh();
    expect(asked).toBe(1);
    expect(listing).toMatchObject({ loaded: true, offlineCopy: true, listProblem: null });
    expect(listing.view.files.map((f) => f.name)).toEqual(['seen-before.txt']);

    services.listing = [driveFile(fileId('2'), 'fresh.txt')];
    await listing.refresh();
    expect(listing.offlineCopy).toBe(false);
    expect(listing.view.files.map((f) => f.name)).toEqual(['fresh.txt']);
  });

  it('shows the problem when there is no device copy, and never uses the copy for other failures', async () => {
    const { services, listing } = setUp();
    services.listOffline = () => Promise.resolve(null);
    services.listing = new OfflineError();
    await listing.refresh();
    expect(listing).toMatchObject({ offlineCopy: false, listProblem: messageFor('offline') });

    let asked = 0;
    services.listOffline = () => {
      asked += 1;
      return Promise.resolve([]);
    };
    const refused = new ApiError(403, 'forbidden', 'Forbidden');
    services.listing = refused;
    await listing.refresh();
    expect(asked).toBe(0);
    expect(listing.offlineCopy).toBe(false);
    expect(listing.listProblem).toEqual(handleError(refused));
  });

  it('sorts, flips the direction on the same key, filters and opens folders', async () => {
    const { services, listing } = setUp();
    services.listing = [
      driveFile(fileId('1'), 'small.txt', { size: 1 }),
      driveFile(fileId('2'), 'big.txt', { size: 9 }),
      driveFile(fileId('3'), 'deep.txt', { folder: ['docs'] }),
    ];
    await listing.refresh();
    listing.sortBy('size');
    expect(listing.direction).toBe('descending');
    expect(listing.view.files.map((f) => f.name)).toEqual(['big.txt', 'small.txt']);
    listing.sortBy('size');
    expect(listing.view.files.map((f) => f.name)).toEqual(['small.txt', 'big.txt']);
    expect(listing.view.folders.map((f) => f.name)).toEqual(['docs']);

    listing.openFolder(['docs']);
    expect(listing.view.files.map((f) => f.name)).toEqual(['deep.txt']);
    listing.openFolder([]);
    listing.setFilter('BIG');
    expect(listing.view.files.map((f) => f.name)).toEqual(['big.txt']);
  });

  it('hides an unfinished upload that another list offers, and shows the others', async () => {
    const { services, listing } = setUp(new Set([fileId('1')]));
    const unfinished = { status: 'unfinished', createdAt: '2026-01-01T00:00:00.000Z', payloadBytes: 3, reason: 'did not finish' } as const;
    services.listing = [{ ...unfinished, fileId: fileId('1') }, { ...unfinished, fileId: fileId('2') }];
    await listing.refresh();
    expect(listing.visibleEntries.map((e) => e.fileId)).toEqual([fileId('2')]);
  });

  it('deletes a file and says so; a refused delete keeps it and shows the alert', async () => {
    const { services, notices, listing } = setUp();
    services.listing = [driveFile(fileId('1'), 'a.txt'), driveFile(fileId('2'), 'b.txt')];
    await listing.refresh();

    expect(await listing.remove(fileId('1'))).toBe(true);
    expect(listing.entries.map((e) => e.fileId)).toEqual([fileId('2')]);
    expect(notices.announcement).toBe('Deleted a.txt.');

    services.failRemove = new ApiError(403, 'forbidden', 'raw detail');
    expect(await listing.remove(fileId('2'))).toBe(false);
    expect(listing.entries).toHaveLength(1);
    expect(notices.alert).toEqual(messageFor('forbidden'));
  });

  it('takes in an uploaded file once, replacing an entry with the same id', () => {
    const { listing } = setUp();
    listing.add(driveFile(fileId('1'), 'old.txt'));
    listing.add(driveFile(fileId('1'), 'new.txt'));
    expect(listing.entries.map((e) => e.status === 'ok' && e.name)).toEqual(['new.txt']);
    expect(listing.file(fileId('1'))?.name).toBe('new.txt');
    expect(listing.file(fileId('2'))).toBeUndefined();
  });
});
