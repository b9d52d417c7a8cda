/**
 * Bad input from a person: a wrong flag, variable, argument, file or number. The message is one line naming
 * what was wrong; the keeper and the CLI print it as it is and exit with status 2.
 */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}
