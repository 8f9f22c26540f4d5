import { missingFields } from '../../workflows/connection-state';
import type { ConnectionDetails } from '../../workflows/definitions';

const details = {
  grantedObjects: [
    { object: 'Account', fields: ['Name', 'Industry'] },
    { object: 'Contact', fields: ['Email'] },
  ],
} as ConnectionDetails;

describe('needs-reconnect detection', () => {
  it('finds nothing missing when the agent reads a subset of what is granted, whatever the case', () => {
    expect(missingFields({ objects: [{ object: 'account', fields: ['industry'] }] }, details)).toEqual([]);
  });

  it('names each field the permission set does not grant', () => {
    expect(
      missingFields(
        {
          objects: [
            { object: 'Account', fields: ['Industry', 'Tier__c'] },
            { object: 'Opportunity', fields: ['StageName'] },
          ],
        },
        details,
      ),
    ).toEqual(['Account.Tier__c', 'Opportunity.StageName']);
  });

  it('has nothing to compare before the connection exists', () => {
    expect(missingFields({ objects: [{ object: 'Account', fields: ['Industry'] }] }, undefined)).toEqual([]);
  });
});
