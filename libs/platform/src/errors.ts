/**
 * Domain errors: thrown by services, mapped to HTTP answers in one place (the exception filter),
 * each with a message a user can act on.
 */
export class DomainError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string) {
    super(`${what} ${id} does not exist`, 404);
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, details?: unknown) {
    super(message, 409, details);
  }
}

export class InvalidInputError extends DomainError {
  constructor(message: string, details?: unknown) {
    super(message, 400, details);
  }
}

/** A limit reached (codes sent, sign-in attempts, updates emailed): 429, saying which and until when. */
export class TooManyRequestsError extends DomainError {
  constructor(message: string) {
    super(message, 429);
  }
}
