/** Turns "this caller may do X to blob Y" into a SAS URL and one audit line. */
import type { AuditSink } from '../audit-log.ts';
import type { Grant } from '../../../src/contract/index.ts';
import type { SasPermissions, SasSigner } from '../storage/sas-signer.ts';

export type { Grant };

/** Issues grants for blob names the routes have already decided on. */
export type GrantIssuer = (request: { userId: string; action: string; blobName: string; permissions: SasPermissions }) => Promise<Grant>;

/**
 * Builds the grant issuer. Each SAS starts 5 minutes back (clock skew between
 * us, storage and the browser) and lives `sasMinutes`. One audit entry per
 * grant, written after signing succeeded; the SAS itself never reaches the
 * sink. Rejects with the signer's error.
 */
export function createGrantIssuer(opts: {
  signer: SasSigner;
  blobEndpoint: string;
  container: string;
  sasMinutes: number;
  audit: AuditSink;
  now: () => Date;
}): GrantIssuer {
  const base = `${opts.blobEndpoint.replace(/\/+$/, '')}/${opts.container}/`;
  return async ({ userId, action, blobName, permissions }) => {
    const t = opts.now().getTime();
    // Whole seconds: a SAS carries no milliseconds, so expiresAt is exact.
    const expiresOn = new Date(Math.floor((t + opts.sasMinutes * 60_000) / 1000) * 1000);
    const sas = await opts.signer.sign({ blobName, permissions, startsOn: new Date(t - 5 * 60_000), expiresOn });
    const expiresAt = expiresOn.toISOString();
    opts.audit({ time: new Date(t).toISOString(), event: 'grant', user: userId, action, blob: blobName, permissions, expiresAt });
    // Blob names are built from hex ids and fixed words only: nothing to escape.
    return { url: `${base}${blobName}?${sas}`, expiresAt, permissions };
  };
}
