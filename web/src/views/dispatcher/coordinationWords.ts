// Words for the coordination parts of the incident panel (legs, mutual aid, duplicates), in both languages.
import type { Lang } from '../../i18n/i18n.tsx';

const WORDS = {
  legs: { zh: '各部门任务', en: 'Agency legs' },
  lead: { zh: '牵头', en: 'Lead' },
  owner: { zh: '负责人', en: 'Owner' },
  missing: { zh: '尚缺', en: 'Still missing' },
  complete: { zh: '本部门完成', en: 'Complete our leg' },
  claim: { zh: '认领', en: 'Take charge' },
  accept: { zh: '接受支援请求', en: 'Accept mutual aid' },
  decline: { zh: '拒绝', en: 'Decline' },
  declineReason: { zh: '暂无可用力量', en: 'No units available' },
  requestAid: { zh: '请求支援', en: 'Request mutual aid' },
  handLead: { zh: '移交牵头', en: 'Hand over the lead' },
  nobody: { zh: '未认领', en: 'unclaimed' },
  plan: { zh: '预案', en: 'Run card' },
  'status.requested': { zh: '待答复', en: 'awaiting answer' },
  'status.declined': { zh: '已拒绝', en: 'declined' },
  'status.pending': { zh: '待派遣', en: 'waiting for units' },
  'status.dispatched': { zh: '已派遣', en: 'dispatched' },
  'status.on_scene': { zh: '已到场', en: 'on scene' },
  'status.cleared': { zh: '已撤离', en: 'units cleared' },
  'status.done': { zh: '已完成', en: 'done' },
  duplicates: { zh: '疑似重复警情', en: 'Likely duplicate' },
  duplicateOf: { zh: '与 {label} 相距 {m} 米，相隔 {min} 分钟', en: '{m} m and {min} min from {label}' },
  merge: { zh: '合并到此警情', en: 'Merge into it' },
  mergedInto: { zh: '已作为重复警情合并到 {label}', en: 'Merged as a duplicate into {label}' },
  split: { zh: '拆分恢复', en: 'Split off again' },
  mergedFrom: { zh: '已合并的重复警情', en: 'Merged duplicates' },
  overdue: { zh: '超时告警', en: 'Overdue' },
  reason: { zh: '推荐理由', en: 'Why' },
} as const;

export type CoordinationWord = keyof typeof WORDS;

export function coordinationWords(lang: Lang) {
  return (key: CoordinationWord, params: Record<string, string | number> = {}) =>
    WORDS[key][lang].replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}
