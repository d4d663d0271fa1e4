import { Exit, OutloopError } from '../errors.js';

/**
 * The output broke the recipe's output contract. Exit 65 (EX_DATAERR: the data was wrong, not the
 * request). The message says what was wrong and never quotes the output: holding it back is the point.
 */
export class OutputContractError extends OutloopError {
  constructor(code: 'output_not_json' | 'output_too_large', message: string, next: string) {
    super(code, Exit.dataError, message, { next });
  }
}
