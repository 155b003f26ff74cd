/**
 * Open tickets and household billing as the live hub carries them: the rooms of the tickets
 * and billing layers take their colour from here, and the wall its per-building counters.
 * Snapshots replace what their scope covers; ticket and billing events patch by id.
 */
import type { BillingState } from "./layers";
import type { BillingUnit, EventMessage, LiveTicket, SnapshotMessage } from "./messages";

/** Ticket states that are done with: such a ticket leaves the layer and the counters. */
const FINISHED = new Set(["resolved", "closed", "cancelled"]);

export interface UnitBilling {
  status: BillingState | null;
  /** The server's own word (paid, partly_paid, unpaid, overdue, no_bills), for the rate. */
  standing: string | null;
  overdueDays: number | null;
  overdueAmount: number | null;
}

/** Return whether an event or object path lies in a scope (`building:3` is in its own path). */
export function inScope(path: readonly string[] | undefined, scope: string): boolean {
  return path?.includes(scope) ?? false;
}

/**
 * Turn the server's standing into a layer state. The operations catalogue also knows
 * `partly_paid` (the protocol's `partial`), `unpaid` (billed, not yet due) and `no_bills`:
 * neither of the last two is a concern, so they stay uncoloured.
 */
export function billingState(status: unknown): BillingState | null {
  if (status === "paid" || status === "overdue") return status;
  if (status === "partial" || status === "partly_paid") return "partial";
  return null;
}

export type OpsListener = () => void;

export class OpsStore {
  readonly tickets = new Map<string, LiveTicket>();
  readonly billing = new Map<string, UnitBilling>();
  /** Payment rate (0..1) of each subscribed scope: its snapshot's, then kept current by events. */
  readonly rates = new Map<string, number | null>();
  private readonly unitsOf = new Map<string, Set<string>>();
  private readonly listeners = new Set<OpsListener>();

  /** Take the tickets and billing of a snapshot; kinds it does not carry stay as they were. */
  applySnapshot(message: SnapshotMessage): void {
    const scope = message.scope;
    if (message.tickets) {
      if (scope !== undefined) {
        for (const [id, ticket] of this.tickets) if (inScope(ticket.path, scope)) this.tickets.delete(id);
      }
      for (const ticket of message.tickets) this.putTicket(ticket);
    }
    if (message.billing) {
      for (const unit of message.billing.units) this.putUnit(unit);
      if (scope !== undefined) {
        this.unitsOf.set(scope, new Set(message.billing.units.map((u) => String(u.id))));
        this.rates.set(scope, typeof message.billing.rate === "number" ? message.billing.rate : null);
      }
    }
    this.notify();
  }

  /** Patch one ticket or one household from an event. */
  applyEvent(event: EventMessage): void {
    const id = event.data.id;
    if (id === undefined || id === null) return;
    if (event.kind === "ticket") {
      const ticket = { ...(this.tickets.get(String(id)) ?? {}), ...(event.data as Partial<LiveTicket>), id: id as string | number, path: event.path };
      if (event.data.action === "delete" || FINISHED.has(String(ticket.status))) this.tickets.delete(String(id));
      else this.putTicket(ticket);
    } else if (event.kind === "billing") {
      this.putUnit({ ...(event.data as Partial<BillingUnit>), id: id as string | number, status: (event.data.status ?? null) as string | null });
      this.recountRates(String(id));
    } else {
      return;
    }
    this.notify();
  }

  /** Forget everything, as a resync asks. */
  clear(): void {
    this.tickets.clear();
    this.billing.clear();
    this.rates.clear();
    this.unitsOf.clear();
    this.notify();
  }

  /** Return the number of open tickets of each place (room) id. */
  openTicketsByPlace(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const ticket of this.tickets.values()) {
      const place = placeOf(ticket);
      if (place !== null) counts.set(place, (counts.get(place) ?? 0) + 1);
    }
    return counts;
  }

  /** Return how many open tickets under a scope are past their due time. */
  overdueIn(scope: string): number {
    let n = 0;
    for (const ticket of this.tickets.values()) if (ticket.overdue === true && inScope(ticket.path, scope)) n += 1;
    return n;
  }

  onChange(listener: OpsListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private putTicket(ticket: LiveTicket): void {
    if (FINISHED.has(String(ticket.status))) return;
    this.tickets.set(String(ticket.id), ticket);
  }

  /**
   * Recount the rate of every scope that holds a unit whose standing changed. The hub's rate
   * is the share of billed households (all but no_bills) that have paid, which the units tell.
   */
  private recountRates(unitId: string): void {
    for (const [scope, units] of this.unitsOf) {
      if (!units.has(unitId)) continue;
      let billed = 0;
      let paid = 0;
      for (const id of units) {
        const standing = this.billing.get(id)?.standing;
        if (standing === "no_bills" || standing === null || standing === undefined) continue;
        billed += 1;
        if (standing === "paid") paid += 1;
      }
      this.rates.set(scope, billed === 0 ? null : paid / billed);
    }
  }

  private putUnit(unit: BillingUnit): void {
    this.billing.set(String(unit.id), {
      standing: unit.status ?? null,
      status: billingState(unit.status),
      overdueDays: numberOrNull(unit.overdue_days),
      overdueAmount: numberOrNull(unit.overdue_amount),
    });
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}

/** The room a ticket is about: its place, else the last space of its path. */
function placeOf(ticket: LiveTicket): string | null {
  if (ticket.place_id !== undefined && ticket.place_id !== null) return String(ticket.place_id);
  for (let i = (ticket.path?.length ?? 0) - 1; i >= 0; i--) {
    const step = ticket.path?.[i];
    if (step?.startsWith("space:")) return step.slice("space:".length);
  }
  return null;
}

function numberOrNull(value: unknown): number | null {
  if (value === null || value === undefined || value === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}
