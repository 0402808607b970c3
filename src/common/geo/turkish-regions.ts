export const TURKISH_REGIONS = ['MEDITERRANEAN', 'EASTERN_ANATOLIA', 'AEGEAN', 'SOUTHEASTERN_ANATOLIA', 'CENTRAL_ANATOLIA', 'MARMARA', 'BLACK_SEA'] as const;
export type TurkishRegion = (typeof TURKISH_REGIONS)[number];

/**
 * The 81 provinces by licence-plate code, each in one of the seven geographical regions set by
 * the First Geography Congress (1941). A province that straddles a border belongs to the region
 * of its capital, as in the official statistics. Names are the Turkish ones; the data's ASCII
 * spellings are matched through `provinceKey`.
 */
export const TURKISH_PROVINCES: readonly (readonly [plate: string, name: string, region: TurkishRegion])[] = [
  ['01', 'Adana', 'MEDITERRANEAN'],
  ['02', 'Adıyaman', 'SOUTHEASTERN_ANATOLIA'],
  ['03', 'Afyonkarahisar', 'AEGEAN'],
  ['04', 'Ağrı', 'EASTERN_ANATOLIA'],
  ['05', 'Amasya', 'BLACK_SEA'],
  ['06', 'Ankara', 'CENTRAL_ANATOLIA'],
  ['07', 'Antalya', 'MEDITERRANEAN'],
  ['08', 'Artvin', 'BLACK_SEA'],
  ['09', 'Aydın', 'AEGEAN'],
  ['10', 'Balıkesir', 'MARMARA'],
  ['11', 'Bilecik', 'MARMARA'],
  ['12', 'Bingöl', 'EASTERN_ANATOLIA'],
  ['13', 'Bitlis', 'EASTERN_ANATOLIA'],
  ['14', 'Bolu', 'BLACK_SEA'],
  ['15', 'Burdur', 'MEDITERRANEAN'],
  ['16', 'Bursa', 'MARMARA'],
  ['17', 'Çanakkale', 'MARMARA'],
  ['18', 'Çankırı', 'CENTRAL_ANATOLIA'],
  ['19', 'Çorum', 'BLACK_SEA'],
  ['20', 'Denizli', 'AEGEAN'],
  ['21', 'Diyarbakır', 'SOUTHEASTERN_ANATOLIA'],
  ['22', 'Edirne', 'MARMARA'],
  ['23', 'Elazığ', 'EASTERN_ANATOLIA'],
  ['24', 'Erzincan', 'EASTERN_ANATOLIA'],
  ['25', 'Erzurum', 'EASTERN_ANATOLIA'],
  ['26', 'Eskişehir', 'CENTRAL_ANATOLIA'],
  ['27', 'Gaziantep', 'SOUTHEASTERN_ANATOLIA'],
  ['28', 'Giresun', 'BLACK_SEA'],
  ['29', 'Gümüşhane', 'BLACK_SEA'],
  ['30', 'Hakkâri', 'EASTERN_ANATOLIA'],
  ['31', 'Hatay', 'MEDITERRANEAN'],
  ['32', 'Isparta', 'MEDITERRANEAN'],
  ['33', 'Mersin', 'MEDITERRANEAN'],
  ['34', 'İstanbul', 'MARMARA'],
  ['35', 'İzmir', 'AEGEAN'],
  ['36', 'Kars', 'EASTERN_ANATOLIA'],
  ['37', 'Kastamonu', 'BLACK_SEA'],
  ['38', 'Kayseri', 'CENTRAL_ANATOLIA'],
  ['39', 'Kırklareli', 'MARMARA'],
  ['40', 'Kırşehir', 'CENTRAL_ANATOLIA'],
  ['41', 'Kocaeli', 'MARMARA'],
  ['42', 'Konya', 'CENTRAL_ANATOLIA'],
  ['43', 'Kütahya', 'AEGEAN'],
  ['44', 'Malatya', 'EASTERN_ANATOLIA'],
  ['45', 'Manisa', 'AEGEAN'],
  ['46', 'Kahramanmaraş', 'MEDITERRANEAN'],
  ['47', 'Mardin', 'SOUTHEASTERN_ANATOLIA'],
  ['48', 'Muğla', 'AEGEAN'],
  ['49', 'Muş', 'EASTERN_ANATOLIA'],
  ['50', 'Nevşehir', 'CENTRAL_ANATOLIA'],
  ['51', 'Niğde', 'CENTRAL_ANATOLIA'],
  ['52', 'Ordu', 'BLACK_SEA'],
  ['53', 'Rize', 'BLACK_SEA'],
  ['54', 'Sakarya', 'MARMARA'],
  ['55', 'Samsun', 'BLACK_SEA'],
  ['56', 'Siirt', 'SOUTHEASTERN_ANATOLIA'],
  ['57', 'Sinop', 'BLACK_SEA'],
  ['58', 'Sivas', 'CENTRAL_ANATOLIA'],
  ['59', 'Tekirdağ', 'MARMARA'],
  ['60', 'Tokat', 'BLACK_SEA'],
  ['61', 'Trabzon', 'BLACK_SEA'],
  ['62', 'Tunceli', 'EASTERN_ANATOLIA'],
  ['63', 'Şanlıurfa', 'SOUTHEASTERN_ANATOLIA'],
  ['64', 'Uşak', 'AEGEAN'],
  ['65', 'Van', 'EASTERN_ANATOLIA'],
  ['66', 'Yozgat', 'CENTRAL_ANATOLIA'],
  ['67', 'Zonguldak', 'BLACK_SEA'],
  ['68', 'Aksaray', 'CENTRAL_ANATOLIA'],
  ['69', 'Bayburt', 'BLACK_SEA'],
  ['70', 'Karaman', 'CENTRAL_ANATOLIA'],
  ['71', 'Kırıkkale', 'CENTRAL_ANATOLIA'],
  ['72', 'Batman', 'SOUTHEASTERN_ANATOLIA'],
  ['73', 'Şırnak', 'SOUTHEASTERN_ANATOLIA'],
  ['74', 'Bartın', 'BLACK_SEA'],
  ['75', 'Ardahan', 'EASTERN_ANATOLIA'],
  ['76', 'Iğdır', 'EASTERN_ANATOLIA'],
  ['77', 'Yalova', 'MARMARA'],
  ['78', 'Karabük', 'BLACK_SEA'],
  ['79', 'Kilis', 'SOUTHEASTERN_ANATOLIA'],
  ['80', 'Osmaniye', 'MEDITERRANEAN'],
  ['81', 'Düzce', 'BLACK_SEA'],
];

const TURKISH_TO_ASCII: Record<string, string> = { ç: 'c', ğ: 'g', ı: 'i', ö: 'o', ş: 's', ü: 'u', â: 'a', î: 'i', û: 'u' };

/**
 * A province name as a lookup key: lower case, ASCII, without the " Province" the data adds to
 * some names ("Izmir Province", "İzmir" and "izmir" give the same key). Turkish casing first, so
 * that I and İ lower to ı and i before both fold to i.
 */
export function provinceKey(name: string): string {
  return name
    .toLocaleLowerCase('tr')
    .replace(/[çğıöşüâîû]/g, (letter) => TURKISH_TO_ASCII[letter] ?? letter)
    .trim()
    .replace(/\s+province$/, '');
}

export const PROVINCE_REGIONS: ReadonlyMap<string, TurkishRegion> = new Map(TURKISH_PROVINCES.map(([plate, , region]) => [plate, region]));
const PLATES_BY_NAME: ReadonlyMap<string, string> = new Map(TURKISH_PROVINCES.map(([plate, name]) => [provinceKey(name), plate]));

export const regionOfPlate = (plate: string): TurkishRegion | null => PROVINCE_REGIONS.get(plate) ?? null;

export const plateOfProvince = (name: string): string | null => PLATES_BY_NAME.get(provinceKey(name)) ?? null;
