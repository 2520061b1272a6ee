import { Type } from 'typebox';
import { Closed, Id, Text } from '../http/schemas.ts';
import { ALARM_LIMITS } from './alarms.ts';

/** An alarm, the same on the webhook and on MQTT. */
export const AlarmBody = Closed({
  alarmId: Type.String({ minLength: 1, maxLength: ALARM_LIMITS.alarmId, pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$', description: "The sensor's id for this alarm; sending it again changes nothing" }),
  sensorId: Id,
  detectedAt: Type.Optional(Type.String({ format: 'date-time', description: "The sensor's clock; kept in the note, not used as business time" })),
  reading: Type.Optional(Type.Number()),
  message: Type.Optional(Text(ALARM_LIMITS.message)),
});

export const AlarmResult = Closed({
  alarmId: Type.String(),
  sensorId: Type.String(),
  incidentId: Type.String(),
  outcome: Type.Enum(['opened', 'attached']),
  duplicate: Type.Boolean(),
});
