/** Why the sample or the options cannot give a bar, in words for the operator (the CLI prints the message and exits 1). */
export class CalibrationRefusal extends Error {
  override name = "CalibrationRefusal";
}
