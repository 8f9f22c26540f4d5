/**
 * What every metadata type's handler works with: the component being saved, and the runtime rows (sObjects such as
 * ConnectedApplication) and tokens that hang off an app.
 */
import type { Ctx } from '../engine';
import type { MetaComponent, Rec } from '../state';

/** A component being created (existing undefined) or updated. */
export interface Draft {
  /** The new data, validated and completed in place by the handler. */
  data: Rec;
  existing: MetaComponent | undefined;
  /** What will be stored; a handler that creates a runtime row gives it that row's id. */
  comp: MetaComponent;
  /** epoch ms of the save */
  t: number;
  /** The org's propagation delay: runtime rows become visible at t + delay. */
  delay: number;
  /** Whether the change restarts propagation (always on creation; handlers add what does on update). */
  changed: boolean;
}

/** The behaviour of one metadata type: validation and side effects of a save, side effects of a delete. */
export interface ComponentHandler {
  save(ctx: Ctx, draft: Draft): void;
  /** Runs before the component is deleted; throws an SfError to refuse. */
  remove?(ctx: Ctx, comp: MetaComponent): void;
}

/** Inserts a runtime row with its audit fields, created by the calling user. */
export function insertRuntime(ctx: Ctx, obj: string, rec: Rec): void {
  const t = ctx.world.clock.iso();
  ctx.org.insert(obj, {
    ...rec,
    CreatedDate: t,
    CreatedById: ctx.userId,
    LastModifiedDate: t,
    LastModifiedById: ctx.userId,
    SystemModstamp: t,
  });
}

/** The ConnectedApplication rows of an app (`tag`: `ConnectedApp:<name>` or `ECA:<lowercase name>`). */
export function runtimeRows(ctx: Ctx, tag: string): Rec[] {
  return [...ctx.org.rows('ConnectedApplication')].filter((r) => r._app === tag);
}

/** Removes an app's ConnectedApplication rows and the SetupEntityAccess rows that grant them. */
export function dropRuntime(ctx: Ctx, tag: string): void {
  const { org } = ctx;
  for (const r of runtimeRows(ctx, tag)) {
    for (const sea of [...org.rows('SetupEntityAccess')])
      if (sea.SetupEntityId === r.Id) org.remove('SetupEntityAccess', sea.Id as string);
    org.remove('ConnectedApplication', r.Id as string);
  }
}

/** Revokes the access tokens minted for a consumer key. */
export function revokeTokens(ctx: Ctx, consumerKey: unknown): void {
  // Assumed (docs 8.9): deleting the app revokes its tokens immediately (stricter).
  for (const [tok, s] of ctx.world.sessions) {
    if (s.consumerKey && s.consumerKey === consumerKey) ctx.world.sessions.delete(tok);
  }
}
