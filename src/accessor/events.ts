/**
 * Publishing ftrack events from the accessor layer without importing @ftrack/api: its
 * `EventHub.publish(event)` reads the event through `getData()` and adds the sender with
 * `prepareSource()`, so a plain object with those two methods (and `topic` / `data` for
 * simpler hubs) is an event to it. Publishing is best effort, as in ftrack's Python API
 * (`on_error='ignore'`) and @ftrack/api's uploader (only when connected): the data is already
 * where it belongs, so a hub that is offline or refuses must not fail the operation — and its
 * failure is caught here, never left as an unhandled rejection.
 */
import type { EventHubLike } from "./ftrack.js";

/** Topic published after a component's data was added to a location (ftrack's constant). */
export const COMPONENT_ADDED_TOPIC = "ftrack.location.component-added";

export interface HubEvent {
  topic: string;
  data: Record<string, unknown>;
  id: string;
  getData(): Record<string, unknown>;
  prepareSource(source: Record<string, unknown>): void;
}

/** An event object @ftrack/api's EventHub.publish accepts. */
export function hubEvent(topic: string, data: Record<string, unknown>): HubEvent {
  const payload: Record<string, unknown> = { topic, data, target: "", inReplyToEvent: null, id: globalThis.crypto.randomUUID() };
  return {
    topic,
    data,
    id: payload.id as string,
    getData: () => payload,
    prepareSource(source) {
      payload.source = { ...source, ...(payload.source as Record<string, unknown> | undefined) };
    },
  };
}

/** Publishes when the hub can (has publish, and is connected when it says); true if handed over. */
export function publishEvent(hub: EventHubLike | undefined, topic: string, data: Record<string, unknown>): boolean {
  if (!hub?.publish || hub.isConnected?.() === false) return false;
  try {
    const result = hub.publish(hubEvent(topic, data));
    if (result && typeof (result as Promise<unknown>).then === "function") (result as Promise<unknown>).then(undefined, () => {});
    return true;
  } catch {
    return false;
  }
}
