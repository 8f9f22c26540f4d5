/** Saving and deleting a component of any metadata type, through the handler of its type. */
import type { Ctx } from '../engine';
import { nowIso, type MetaComponent, type Rec } from '../state';
import type { ComponentHandler, Draft } from './component';
import { connectedApp } from './connected-app';
import {
  appPolicies,
  externalClientApp,
  globalOauthSettings,
  oauthPolicies,
  oauthSettings,
} from './external-client-app';

/** One handler per metadata type in `TYPES` (types.ts). */
const HANDLERS: Record<string, ComponentHandler> = {
  ConnectedApp: connectedApp,
  ExternalClientApplication: externalClientApp,
  ExtlClntAppConfigurablePolicies: appPolicies,
  ExtlClntAppOauthSettings: oauthSettings,
  ExtlClntAppGlobalOauthSettings: globalOauthSettings,
  ExtlClntAppOauthConfigurablePolicies: oauthPolicies,
};

function handlerOf(type: string): ComponentHandler {
  const h = HANDLERS[type];
  if (!h) throw new Error(`no metadata handler for ${type}`);
  return h;
}

/** Validates and applies a create (existing=undefined) or an update, then stores the component. */
export function save(ctx: Ctx, type: string, data: Rec, existing: MetaComponent | undefined): void {
  const { org, world } = ctx;
  const t = world.clock.now();
  const comp: MetaComponent = existing
    ? { ...existing, data, lastModifiedAt: nowIso(t) }
    : {
        type,
        fullName: data.fullName as string,
        id: '',
        data,
        createdAt: nowIso(t),
        createdById: ctx.userId,
        lastModifiedAt: nowIso(t),
        changedAt: t,
      };
  const draft: Draft = {
    data,
    existing,
    comp,
    t,
    delay: org.propagationDelay(ctx.opts.propagationDelayMs),
    changed: !existing,
  };
  handlerOf(type).save(ctx, draft);
  if (!comp.id) comp.id = existing?.id ?? world.ids.next('0Ho');
  if (draft.changed) comp.changedAt = t;
  org.putMeta(comp);
}

/** Removes a component and what hangs off it (runtime rows, SetupEntityAccess, issued tokens). */
export function remove(ctx: Ctx, type: string, comp: MetaComponent): void {
  handlerOf(type).remove?.(ctx, comp);
  ctx.org.deleteMeta(type, comp.fullName);
}
