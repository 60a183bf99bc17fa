/** The llama GGUF header: shape, vocabulary and ChatML template, for generated and trained test models alike. */
import type { GgufWriter } from "./gguf-writer.ts";
import { buildVocab, TOKENS, VOCAB_SIZE } from "./llama-vocab.ts";

const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** The shape fields of a llama GGUF header. */
export interface LlamaShape {
  name: string;
  type: "f32" | "f16";
  contextLength: number;
  embeddingLength: number;
  layers: number;
  feedForwardLength: number;
  heads: number;
  kvHeads: number;
}

/**
 * Write the llama metadata and the project's vocabulary (262 tokens, ChatML template) into `g`.
 * Shared by the random-weight presets and the trained fixtures (export-trained.ts).
 */
export function writeLlamaMetadata(g: GgufWriter, r: LlamaShape): void {
  const vocab = buildVocab();
  g.string("general.architecture", "llama")
    .string("general.name", r.name)
    .uint32("general.file_type", r.type === "f16" ? 1 : 0) // LLAMA_FTYPE_ALL_F32 / MOSTLY_F16
    .uint32("llama.context_length", r.contextLength)
    .uint32("llama.embedding_length", r.embeddingLength)
    .uint32("llama.block_count", r.layers)
    .uint32("llama.feed_forward_length", r.feedForwardLength)
    .uint32("llama.attention.head_count", r.heads)
    .uint32("llama.attention.head_count_kv", r.kvHeads)
    .uint32("llama.rope.dimension_count", r.embeddingLength / r.heads)
    .float32("llama.attention.layer_norm_rms_epsilon", 1e-5)
    .uint32("llama.vocab_size", VOCAB_SIZE)
    .string("tokenizer.ggml.model", "llama")
    .set("tokenizer.ggml.tokens", { type: "string[]", value: vocab.tokens })
    .set("tokenizer.ggml.scores", { type: "float32[]", value: vocab.scores })
    .set("tokenizer.ggml.token_type", { type: "int32[]", value: vocab.types })
    .uint32("tokenizer.ggml.bos_token_id", TOKENS.bos)
    .uint32("tokenizer.ggml.eos_token_id", TOKENS.eos)
    .uint32("tokenizer.ggml.eot_token_id", TOKENS.imEnd)
    .uint32("tokenizer.ggml.unknown_token_id", TOKENS.unk)
    .bool("tokenizer.ggml.add_bos_token", true)
    .bool("tokenizer.ggml.add_eos_token", false)
    // No implicit leading "▁" (also not after special tokens), so a rendered chat
    // template tokenizes to exactly its text.
    .bool("tokenizer.ggml.add_space_prefix", false)
    .string("tokenizer.chat_template", CHATML_TEMPLATE);
}
