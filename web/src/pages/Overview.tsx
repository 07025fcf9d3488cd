import { PageHeader } from '../components/PageHeader';

export function Overview() {
  return <PageHeader title="Overview" lead="This page is being built." />;
}
