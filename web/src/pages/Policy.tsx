import { PageHeader } from '../components/PageHeader';

export function Policy() {
  return <PageHeader title="Policy" lead="This page is being built." />;
}
