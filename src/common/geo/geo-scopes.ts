import { GEO_SCOPES } from '../../db/schema/geo-scopes';
import { TURKISH_REGIONS, TurkishRegion } from './turkish-regions';

export type GeoScope = (typeof GEO_SCOPES)[number];

/** Where an address is: its country, and in Turkey its province (by plate code) and region when the data knows them. */
export type GeoLocation = {
  /** ISO 3166-1 alpha-2. */
  country: string;
  /** Turkish province plate code, '01'..'81'. */
  plate: string | null;
  region: TurkishRegion | null;
};

/**
 * Turkey is in neither list: it has scopes of its own (TURKEY and its seven regions), so a
 * product or plan meant for Turkish callers names them, and EUROPE or ASIA never lets a Turkish
 * caller in by the back door. Otherwise a country counts by its continent in the annexare
 * "Countries" data (the `countries-list` package; Cyprus is in Europe there), and the countries
 * it places in both Europe and Asia (Russia, Kazakhstan, Azerbaijan, Georgia) are in both lists.
 */
const countries = (codes: string): ReadonlySet<string> => new Set(codes.split(/\s+/));

export const EUROPE_COUNTRIES = countries(`AD AL AT AX BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE LI LT LU LV MC MD ME
  MK MT NL NO PL PT RO RS SE SI SJ SK SM UA VA XK RU KZ AZ GE`);

export const ASIA_COUNTRIES = countries(`AE AF AM AZ BD BH BN BT CC CN CX GE HK ID IL IN IO IQ IR JO JP KG KH KP KR KW KZ LA LB LK MM MN MO MV MY NP
  OM PH PK PS QA RU SA SG SY TH TJ TM TW UZ VN YE`);

const TURKEY = 'TR';
const REGIONS: ReadonlySet<string> = new Set(TURKISH_REGIONS);
const isRegion = (scope: GeoScope): scope is TurkishRegion => REGIONS.has(scope);

function withinScope(location: GeoLocation, scope: GeoScope): boolean {
  if (isRegion(scope)) return location.region === scope;
  switch (scope) {
    case 'ALL':
      return true;
    case 'TURKEY':
      return location.country === TURKEY;
    case 'EUROPE':
      return EUROPE_COUNTRIES.has(location.country);
    case 'ASIA':
      return ASIA_COUNTRIES.has(location.country);
    case 'WORLD':
      return location.country !== TURKEY;
  }
}

/**
 * Whether the scopes keep anyone out: none (a product without a geoScope) and any list with ALL
 * admit every caller, so deciding them needs no geographic data.
 */
export function restrictsPlace(scopes: readonly GeoScope[] | null | undefined): scopes is readonly GeoScope[] {
  return scopes !== null && scopes !== undefined && !scopes.includes('ALL');
}

/**
 * Whether a caller at `location` may pass: it matches any one of the scopes. `null` is a place the
 * data cannot name (private and loopback ranges, unplaced addresses); only ALL lets it through.
 * A Turkish location whose province the data does not give passes TURKEY but no region.
 */
export function withinGeoScopes(location: GeoLocation | null, scopes: readonly GeoScope[]): boolean {
  if (location === null) return scopes.includes('ALL');
  return scopes.some((scope) => withinScope(location, scope));
}
