/** The simulated game economy: campaigns, price points, users. All deterministic per seed. */
import { campaignVariants, cumulative, mix32 } from "./util.ts";

export interface Campaign {
  name: string;
  variants: string[]; // CSV-ready spellings (case/padding noise)
  mediaSource: string;
  hasCost: boolean; // Organic has no cost rows
  hasUsers: boolean; // a brand campaign has cost but no attributed purchases
  roasTarget: number;
}

const PAID: [string, string][] = [
  ["FB_Lookalike_US", "Facebook Ads"],
  ["Google_UAC_Tier1", "googleadwords_int"],
  ["TikTok_Spark_Ads", "tiktokglobal_int"],
  ["Retarget, Lapsed Payers", "Facebook Ads"], // comma: must be quoted in CSV
  ["AppLovin_Rewarded", "applovin_int"],
  ["Unity_Interstitial_EU", "unityads_int"],
  ["Apple_Search_Ads_Brand", "Apple Search Ads"],
  ["Snap_Story_Ads", "snapchat_int"],
  ["IronSource_Offerwall", "ironsource_int"],
  ["Mintegral_Playable_LATAM", "mintegral_int"],
  ["Moloco_RTB_JP", "moloco_int"],
];

const ORGANIC = "Organic";

/** Price points (cents), weights and store content ids. */
export const PRICES = [99, 199, 499, 999, 1999, 4999, 9999];
export const PRICE_CUM = cumulative([30, 18, 22, 14, 8, 5, 2.5]);
const CONTENT = ["gems_80", "gems_200", "gems_550", "starter_pack", "gems_2600", "vip_bundle", "gems_14000"];

/** Quoted AppsFlyer-style event_value JSON per price (commas and quotes inside). */
export const EVENT_VALUE = CONTENT.map(
  (c) => `"{""af_content_id"":""${c}"",""af_currency"":""USD"",""af_quantity"":1}"`,
);
/** A pretty-printed variant holding a newline inside the quoted field. */
export const EVENT_VALUE_NL = CONTENT.map((c) => `"{""af_content_id"":""${c}"",\n ""af_currency"":""USD""}"`);

/**
 * C campaigns with cost rows: C-1 paid campaigns with users plus one cost-only brand
 * campaign (when C >= 3); an Organic source with revenue and no cost comes on top.
 */
export function buildCampaigns(count: number, rand: () => number): Campaign[] {
  const withUsers = count >= 3 ? count - 1 : Math.max(1, count);
  const out: Campaign[] = [];
  for (let i = 0; i < withUsers; i++) {
    const [name, src] = PAID[i] ?? [`Campaign_${String(i + 1).padStart(2, "0")}`, "other_int"];
    out.push({
      name,
      variants: campaignVariants(name),
      mediaSource: src,
      hasCost: true,
      hasUsers: true,
      roasTarget: 0.7 + rand() * 1.1,
    });
  }
  if (count >= 3) {
    const name = "CTV_Brand_Awareness";
    out.push({
      name,
      variants: campaignVariants(name),
      mediaSource: "ctv_int",
      hasCost: true,
      hasUsers: false,
      roasTarget: 1,
    });
  }
  out.push({
    name: ORGANIC,
    variants: campaignVariants(ORGANIC),
    mediaSource: "organic",
    hasCost: false,
    hasUsers: true,
    roasTarget: 1,
  });
  return out;
}

const P3: string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));
const P4: string[] = Array.from({ length: 10000 }, (_, i) => String(i).padStart(4, "0"));

/** User attributes derived from the user index by hashing: no per-user storage. */
export class Users {
  private readonly cum: number[];
  private readonly userCampaigns: number[];
  constructor(
    readonly campaigns: Campaign[],
    readonly salt: number,
  ) {
    // Organic ~20%, paid campaigns with decreasing shares.
    const idx: number[] = [];
    const w: number[] = [];
    campaigns.forEach((c, i) => {
      if (!c.hasUsers) return;
      idx.push(i);
      w.push(c.name === ORGANIC ? (0.25 * campaigns.length) / 3 : 1 / (idx.length + 1.5));
    });
    this.userCampaigns = idx;
    this.cum = cumulative(w);
  }

  campaignOf(u: number): number {
    const x = (mix32(u, this.salt) / 4294967296) * this.cum[this.cum.length - 1]!;
    for (let i = 0; i < this.cum.length; i++) if (x < this.cum[i]!) return this.userCampaigns[i]!;
    return this.userCampaigns[this.userCampaigns.length - 1]!;
  }

  isIos(u: number): boolean {
    return (mix32(u, this.salt ^ 0x5bd1e995) & 3) === 0;
  }

  /** AppsFlyer-looking id "1718000000000-1234567"; the index keeps it unique. */
  id(u: number): string {
    const slot = u & 0xffff; // small direct-mapped cache: hot (whale) users repeat a lot
    if (this.cacheKey[slot] === u) return this.cacheVal[slot]!;
    const id = this.makeId(u);
    this.cacheKey[slot] = u;
    this.cacheVal[slot] = id;
    return id;
  }

  private readonly cacheKey = new Int32Array(0x10000).fill(-1);
  private readonly cacheVal: string[] = new Array<string>(0x10000).fill("");

  private makeId(u: number): string {
    const h = mix32(u, this.salt ^ 0x27d4eb2f);
    // 13-digit ms-timestamp-like prefix, built from int32 pieces (no slow double-to-string).
    const h2 = mix32(u, h);
    const t = `${1700000 + (h % 30000)}${P3[h2 % 1000]}${P3[(h2 >>> 10) % 1000]}`;
    // u -> (u * M + h0) mod 10^k is a bijection on [0, 10^k): unique, random-looking digits.
    if (u < 1e7) {
      const r = (((u * 7919) % 1e7) + (this.salt % 1e7)) % 1e7;
      return `${t}-${P3[(r / 1e4) | 0]}${P4[r % 1e4]}`;
    }
    const r = ((((u % 1e10) * 7919) % 1e10) + (this.salt % 1e10)) % 1e10;
    return `${t}-${String(r).padStart(10, "0")}`;
  }
}

/** Store receipt ids, unique per counter k. */
export function receiptId(k: number, ios: boolean, salt: number): string {
  const h = mix32(k, salt);
  if (ios) return `${2000000 + (h % 900000)}${String(k).padStart(9, "0")}`;
  const d = k % 100000;
  const c = Math.floor(k / 100000) % 10000;
  return `GPA.33${P3[h % 100]!.slice(1)}-${P4[(h >>> 8) % 10000]}-${P4[c]}-${P4[(d / 10) | 0]}${d % 10}`;
}
