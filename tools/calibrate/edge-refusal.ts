/** The edge would not take the new bar (or could not be reached), in words for the operator. */
export class EdgeRefusal extends Error {
  override name = "EdgeRefusal";
}
