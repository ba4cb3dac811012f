/**
 * Where the local identity provider keeps its sessions, codes, grants and
 * tokens: in this process's memory, gone on restart (a browser then signs
 * in again). The same as oidc-provider's built-in development adapter, made
 * explicit so the launcher can stay quiet about it.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  expiresAt: number;
}

/**
 * Returns a Map-backed `oidc-provider` adapter class. Each call gets its own
 * store (one per provider), shared by all models, keyed by model and id.
 */
export function memoryAdapter(): new (model: string) => Adapter {
  const store = new Map<string, Entry>();
  const grantMembers = new Map<string, Set<string>>();

  return class MemoryAdapter implements Adapter {
    readonly #model: string;

    constructor(model: string) {
      this.#model = model;
    }

    #key(id: string): string {
      return `${this.#model}:${id}`;
    }

    /** Stores `payload` under `id` for `expiresIn` seconds. */
    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const key = this.#key(id);
      store.set(key, { payload, expiresAt: Date.now() + expiresIn * 1000 });
      if (typeof payload.grantId === 'string') {
        const members = grantMembers.get(payload.grantId) ?? new Set<string>();
        members.add(key);
        grantMembers.set(payload.grantId, members);
      }
      return Promise.resolve();
    }

    /** The payload stored under `id`, or undefined when missing or expired. */
    find(id: string): Promise<AdapterPayload | undefined> {
      return Promise.resolve(this.#live(this.#key(id)));
    }

    /** Device-flow lookup; the local provider has no device flow. */
    findByUserCode(_userCode: string): Promise<AdapterPayload | undefined> {
      return Promise.resolve(undefined);
    }

    /** Session lookup by its uid. */
    findByUid(uid: string): Promise<AdapterPayload | undefined> {
      for (const [key, entry] of store) {
        if (key.startsWith(`${this.#model}:`) && entry.payload.uid === uid) return Promise.resolve(this.#live(key));
      }
      return Promise.resolve(undefined);
    }

    /** Marks a one-time artifact (an authorization code) as used. */
    consume(id: string): Promise<void> {
      const entry = store.get(this.#key(id));
      if (entry !== undefined) entry.payload.consumed = Math.floor(Date.now() / 1000);
      return Promise.resolve();
    }

    /** Forgets `id`. */
    destroy(id: string): Promise<void> {
      store.delete(this.#key(id));
      return Promise.resolve();
    }

    /** Forgets everything issued under one grant (sign-out, refresh token reuse). */
    revokeByGrantId(grantId: string): Promise<void> {
      for (const key of grantMembers.get(grantId) ?? []) store.delete(key);
      grantMembers.delete(grantId);
      return Promise.resolve();
    }

    #live(key: string): AdapterPayload | undefined {
      const entry = store.get(key);
      if (entry === undefined) return undefined;
      if (entry.expiresAt <= Date.now()) {
        store.delete(key);
        return undefined;
      }
      return entry.payload;
    }
  };
}
