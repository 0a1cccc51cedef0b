import { z } from "zod";
import { InstallSet } from "../install-set.ts";
import { decodeInstalls, encodeInstalls } from "./breakdown.ts";
import {
  addOutcomes,
  estimate,
  joinKey,
  keyedInstall,
  keyOrder,
  lines,
  outcomes,
  installSet,
  text,
  type Figure,
  type Outcomes,
  type TallyLine,
} from "./figure.ts";

const MODEL_REGISTRATION = "model_registration";
const UNKNOWN = "unknown";
const COUNTED = ["embedding_dimensions", "modalities", "normalization", "distance_metrics", "device_types"] as const;
/** Installs a name is remembered as registered by: a name only erased installs registered is dropped with them. */
const NAMED_BY_KEPT = 3;

const counts = z.record(z.string(), lines).describe("Lines by value");

const schema = z.object({
  models: z.array(
    z.object({
      model_name: z.string(),
      model_source: z.string(),
      received: lines,
      registrations: estimate,
      installs: installSet,
      named_by: z
        .array(z.string())
        .max(NAMED_BY_KEPT)
        .describe("Installs that registered the name, as keyed hashes (the first few, in code-point order)"),
      named_by_others: z.boolean().describe("More installs than named_by registered it"),
      embedding_dimensions: counts,
      modalities: counts,
      normalization: counts,
      distance_metrics: counts,
      device_types: counts,
      load: outcomes.describe("load_success true / false"),
      inference: outcomes.describe("inference_success true / false"),
    }),
  ),
});

type Encoded = z.output<typeof schema>;
type Counts = Record<string, number>;

interface ModelFigures extends Record<(typeof COUNTED)[number], Counts> {
  model_name: string;
  model_source: string;
  received: number;
  registrations: number;
  installs: InstallSet;
  named_by: string[];
  named_by_others: boolean;
  load: Outcomes;
  inference: Outcomes;
}

/** The model registry: each model (`model_registration`) by name and source, its registrations, installs and settings. */
export class ModelRegistry implements Figure<Encoded> {
  static readonly shape = schema.shape;
  private readonly models = new Map<string, ModelFigures>();

  add({ event, weight, hash, installKey }: TallyLine): void {
    const metadata = event.metadata;
    if (event.event_name !== MODEL_REGISTRATION) return;
    const name = text(metadata.model_name);
    if (!name) return;
    const source = text(metadata.model_source) ?? UNKNOWN;
    const key = joinKey(name, source);
    let figures = this.models.get(key);
    if (!figures) {
      figures = {
        model_name: name,
        model_source: source,
        received: 0,
        registrations: 0,
        installs: new InstallSet(),
        named_by: [],
        named_by_others: false,
        embedding_dimensions: {},
        modalities: {},
        normalization: {},
        distance_metrics: {},
        device_types: {},
        load: { success: 0, failure: 0 },
        inference: { success: 0, failure: 0 },
      };
      this.models.set(key, figures);
    }
    figures.received += 1;
    figures.registrations += weight;
    figures.installs.add(hash);
    if (!figures.named_by_others) nameBy(figures, [keyedInstall(installKey, event.hwid)], false);
    const dimension = metadata.embedding_dimension;
    if (typeof dimension === "number" && Number.isInteger(dimension))
      countValue(figures.embedding_dimensions, String(dimension));
    if (Array.isArray(metadata.modalities)) {
      for (const modality of new Set(metadata.modalities.filter((m) => typeof m === "string"))) {
        countValue(figures.modalities, modality);
      }
    }
    countValue(figures.normalization, text(metadata.normalization));
    countValue(figures.distance_metrics, text(metadata.distance_metric));
    countValue(figures.device_types, text(metadata.device_type));
    if (typeof metadata.load_success === "boolean")
      figures.load[metadata.load_success ? "success" : "failure"] += weight;
    if (typeof metadata.inference_success === "boolean") {
      figures.inference[metadata.inference_success ? "success" : "failure"] += weight;
    }
  }

  merge(other: ModelRegistry): void {
    for (const [key, theirs] of other.models) {
      const ours = this.models.get(key);
      if (!ours) {
        this.models.set(key, {
          ...structuredClone({ ...theirs, installs: undefined }),
          installs: theirs.installs.copy(),
        });
        continue;
      }
      ours.received += theirs.received;
      ours.registrations += theirs.registrations;
      ours.installs.merge(theirs.installs);
      nameBy(ours, theirs.named_by, theirs.named_by_others);
      for (const field of COUNTED) {
        for (const [value, n] of Object.entries(theirs[field])) ours[field][value] = (ours[field][value] ?? 0) + n;
      }
      addOutcomes(ours.load, theirs.load);
      addOutcomes(ours.inference, theirs.inference);
    }
  }

  /** Most registrations first. */
  figures(): ModelFigures[] {
    return [...this.models.values()].sort(
      (a, b) => b.registrations - a.registrations || keyOrder(a.model_name, b.model_name),
    );
  }

  encode(): Encoded {
    return { models: this.figures().map(encodeInstalls) };
  }

  static decode({ models }: Encoded): ModelRegistry {
    const figure = new ModelRegistry();
    for (const f of models) figure.models.set(joinKey(f.model_name, f.model_source), decodeInstalls(f));
    return figure;
  }
}

/** Adds `installs` to those a model is named by, keeping the first few (in code-point order) and whether there were more. */
function nameBy(figures: ModelFigures, installs: readonly string[], others: boolean): void {
  const all = [...new Set([...figures.named_by, ...installs])].sort(keyOrder);
  figures.named_by = all.slice(0, NAMED_BY_KEPT);
  figures.named_by_others ||= others || all.length > NAMED_BY_KEPT;
}

function countValue(counts: Counts, value: string | undefined): void {
  if (value !== undefined) counts[value] = (counts[value] ?? 0) + 1;
}
