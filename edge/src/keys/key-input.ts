import { DEFAULT_POOL, poolNameSchema } from "@rung/shared/protocol";
import { z } from "zod";
import { TIERS } from "./caller.ts";

const nameSchema = z.string().min(1).max(128);
/** Deduplicated and in `TIERS` order, so equal sets compare and print alike. */
const tiersSchema = z
  .array(z.enum(TIERS))
  .min(1, "a key needs at least one tier")
  .transform((tiers) => TIERS.filter((tier) => tiers.includes(tier)));
/** A limit: a positive integer, or null for none (PATCH clears one with null). */
const limitSchema = z.number().int().positive().nullable();
/** The model ids a key may ask for (virtual `auto` ones included); null: any. */
const modelsSchema = z
  .array(z.string().min(1).max(256))
  .min(1, "list at least one model, or send null for any")
  .max(256)
  .transform((models) => [...new Set(models)])
  .nullable();

const keyFields = {
  name: nameSchema,
  tiers: tiersSchema,
  pool: poolNameSchema,
  rpm: limitSchema,
  tpm: limitSchema,
  concurrency: limitSchema,
  monthlyTokens: limitSchema,
  models: modelsSchema,
  verify: z.boolean(),
};

/** `POST /admin/keys`: a name, the rest optional (tiers `["private"]`, pool `main`, no limits, any model). Unknown fields are refused. */
export const keyCreateSchema = z.strictObject({
  ...keyFields,
  tiers: tiersSchema.default(["private"]),
  pool: poolNameSchema.default(DEFAULT_POOL),
  rpm: limitSchema.default(null),
  tpm: limitSchema.default(null),
  concurrency: limitSchema.default(null),
  monthlyTokens: limitSchema.default(null),
  models: modelsSchema.default(null),
  verify: z.boolean().default(false),
});
export type KeyCreateInput = z.input<typeof keyCreateSchema>;
export type KeyCreate = z.output<typeof keyCreateSchema>;

/** `PATCH /admin/keys/:id`: any of the key's fields; absent ones stay, a null limit or models is cleared. */
export const keyPatchSchema = z.strictObject(keyFields).partial();
export type KeyPatchInput = z.input<typeof keyPatchSchema>;
export type KeyPatch = z.output<typeof keyPatchSchema>;

/** `POST /admin/join-tokens`: the pool its nodes join (default `main`) and a name for the operator. */
export const joinTokenCreateSchema = z.strictObject({
  pool: poolNameSchema.default(DEFAULT_POOL),
  name: nameSchema.nullable().default(null),
});
export type JoinTokenCreateInput = z.input<typeof joinTokenCreateSchema>;
export type JoinTokenCreate = z.output<typeof joinTokenCreateSchema>;
