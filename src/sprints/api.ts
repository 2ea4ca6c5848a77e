import { z } from 'zod';
import { parseBody } from '../api/errors';
import type { ApiRoute } from '../api/router';
import type { SprintFeatureRow, SprintRow } from '../db/schema';
import { invalid, notFound } from '../errors';
import { calendarDate, inOrder, optionalTextField, textField } from '../fields';
import {
  featureKeyPattern,
  featureStatuses,
  maxFeatureKeyLength,
  maxFeatureTitleLength,
  maxSprintNameLength,
} from './model';
import type { SprintDeps } from './deps';
import { findSprintByKey, listFeatures } from './store';
import { upsertSprint } from './tracker';

const key = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'is required')
    .max(max, `must be at most ${max} characters`)
    .regex(featureKeyPattern, 'must be letters, digits, ".", "_" or "-" (for example PAY-123)');

const featureBody = z.strictObject({
  key: key(maxFeatureKeyLength),
  title: textField(maxFeatureTitleLength),
  status: z.enum(featureStatuses, { error: `must be one of ${featureStatuses.join(', ')}` }),
  customer_visible: z.boolean({ error: 'must be true or false' }).default(true),
});

const sprintBody = z
  .strictObject({
    name: textField(maxSprintNameLength),
    service: optionalTextField(100),
    starts_on: calendarDate,
    ends_on: calendarDate,
    features: z.array(featureBody).max(1000, 'must list at most 1000 features'),
  })
  .superRefine((body, ctx) => {
    if (!inOrder(body.starts_on, body.ends_on)) ctx.addIssue({ code: 'custom', path: ['ends_on'], message: 'must not be before starts_on' });
    const seen = new Map<string, number>();
    body.features.forEach((feature, index) => {
      const first = seen.get(feature.key.toUpperCase());
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['features', index, 'key'], message: `repeats features.${first}.key` });
      else seen.set(feature.key.toUpperCase(), index);
    });
  });

const sprintKey = key(100);

export function sprintRoutes(deps: SprintDeps): ApiRoute[] {
  return [
    {
      method: 'PUT',
      path: '/sprints/:key',
      scopes: ['sprints:write'],
      async handle({ params, body, token }) {
        const keyCheck = sprintKey.safeParse(params.key ?? '');
        if (!keyCheck.success) {
          throw invalid('validation_failed', `The sprint key in the path ${keyCheck.error.issues[0]?.message}.`, [
            { field: 'key', message: keyCheck.error.issues[0]?.message ?? 'is not valid' },
          ]);
        }
        const input = parseBody(sprintBody, body);
        const { sprint, features } = await upsertSprint(deps, {
          key: keyCheck.data,
          name: input.name,
          service: input.service,
          startsOn: input.starts_on,
          endsOn: input.ends_on,
          features: input.features.map((feature) => ({
            key: feature.key,
            title: feature.title,
            status: feature.status,
            customerVisible: feature.customer_visible,
          })),
          actor: `api:${token.name}`,
        });
        return { status: 200, body: sprintResource(sprint, features) };
      },
    },
    {
      method: 'GET',
      path: '/sprints/:key',
      scopes: ['read', 'sprints:write'],
      async handle({ params }) {
        const sprint = await findSprintByKey(deps.db, params.key ?? '');
        if (!sprint) throw notFound('sprint_not_found', `There is no sprint ${params.key}.`);
        return { status: 200, body: sprintResource(sprint, await listFeatures(deps.db, sprint.id)) };
      },
    },
  ];
}

function sprintResource(sprint: SprintRow, features: SprintFeatureRow[]) {
  return {
    id: sprint.id,
    key: sprint.key,
    name: sprint.name,
    service: sprint.service,
    starts_on: sprint.startsOn,
    ends_on: sprint.endsOn,
    features: features.map((feature) => ({
      key: feature.key,
      title: feature.title,
      status: feature.status,
      customer_visible: feature.customerVisible,
      status_changed_at: feature.statusChangedAt.toISOString(),
    })),
    created_at: sprint.createdAt.toISOString(),
    updated_at: sprint.updatedAt.toISOString(),
  };
}
