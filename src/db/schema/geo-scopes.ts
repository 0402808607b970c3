/** Where a product's licenses or a plan's calls are admitted from; a column enum of plans and products, resolved by common/geo. */
export const GEO_SCOPES = [
  'ALL',
  'TURKEY',
  'EUROPE',
  'ASIA',
  'WORLD',
  'MEDITERRANEAN',
  'EASTERN_ANATOLIA',
  'AEGEAN',
  'SOUTHEASTERN_ANATOLIA',
  'CENTRAL_ANATOLIA',
  'MARMARA',
  'BLACK_SEA',
] as const;
