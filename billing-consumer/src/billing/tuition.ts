/**
 * The fee rule: a year of tuition costs 1,200.00; students who register in the first half of a month
 * (day 1 to 15, UTC) get 10% off for registering early. Amounts are integer cents.
 */
export const YEARLY_TUITION_CENTS = 120_000;
export const EARLY_REGISTRATION_DISCOUNT_PERCENT = 10;
export const EARLY_REGISTRATION_LAST_DAY = 15;

export function tuitionFeeCents(registeredAt: Date): number {
  const early = registeredAt.getUTCDate() <= EARLY_REGISTRATION_LAST_DAY;
  return early ? (YEARLY_TUITION_CENTS * (100 - EARLY_REGISTRATION_DISCOUNT_PERCENT)) / 100 : YEARLY_TUITION_CENTS;
}
