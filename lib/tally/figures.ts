import type { z } from "zod";
import { AppVersions } from "./figures/app-versions.ts";
import { DbProviders } from "./figures/db-providers.ts";
import { ErrorGroups } from "./figures/error-groups.ts";
import { EventNames } from "./figures/event-names.ts";
import type { Figure, FigureKind } from "./figures/figure.ts";
import { ClientTypes, Countries } from "./figures/keyed-counts.ts";
import { ModelRegistry } from "./figures/model-registry.ts";
import { OperatingSystems } from "./figures/operating-systems.ts";
import { Percentiles } from "./figures/percentiles.ts";
import { Sessions } from "./figures/sessions.ts";
import { Totals } from "./figures/totals.ts";

/**
 * The figures a tally keeps, in the order the rollup writes their keys: a new figure is a file in
 * figures/ (what it counts of a line, how it merges, its keys of the rollup and their schema) and
 * a line here.
 */
export const FIGURES = {
  totals: Totals,
  events: EventNames,
  versions: AppVersions,
  os: OperatingSystems,
  client_types: ClientTypes,
  countries: Countries,
  sessions: Sessions,
  errors: ErrorGroups,
  models: ModelRegistry,
  db_providers: DbProviders,
  performance: Percentiles,
} satisfies Record<string, FigureKind<z.ZodRawShape>>;

type Kinds = typeof FIGURES;
type Shapes = UnionToIntersection<Kinds[keyof Kinds]["shape"]>;
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** A tally's figures, by name. */
export type TallyFigures = { [K in keyof Kinds]: InstanceType<Kinds[K]> };
/** The keys the figures write in a rollup. */
export type FiguresRollup = z.output<z.ZodObject<Shapes>>;

const kinds = Object.entries(FIGURES) as [keyof Kinds, FigureKind<z.ZodRawShape>][];

/** Every figure's keys of the rollup and their schemas, in the rollup's order. */
export const FIGURE_SHAPES = Object.assign({}, ...kinds.map(([, kind]) => kind.shape)) as Shapes;

export function newFigures(): TallyFigures {
  return Object.fromEntries(kinds.map(([name, Kind]) => [name, new Kind()])) as TallyFigures;
}

export function decodeFigures(rollup: FiguresRollup): TallyFigures {
  return Object.fromEntries(kinds.map(([name, kind]) => [name, kind.decode(rollup)])) as TallyFigures;
}

/** The figures in the list's order: each counts every line, merges with its own kind, and writes its keys. */
export function figureList(figures: TallyFigures): Figure<object>[] {
  return kinds.map(([name]) => figures[name] as Figure<object>);
}

export function encodeFigures(figures: TallyFigures): FiguresRollup {
  return Object.assign({}, ...figureList(figures).map((figure) => figure.encode())) as FiguresRollup;
}
